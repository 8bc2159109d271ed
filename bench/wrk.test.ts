import { describe, expect, test } from 'vitest';
import { parseWrk } from './wrk.ts';

// captured from wrk 4.1.0 (Debian) against a loopback server
const CLEAN = `Running 1s test @ http://127.0.0.1:18779/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.88ms    2.57ms  30.38ms   93.53%
    Req/Sec     9.82k     4.46k   14.75k    63.64%
  10737 requests in 1.11s, 106.14MB read
Requests/sec:   9712.71
Transfer/sec:     96.02MB
`;

// the error lines as wrk prints them (src/wrk.c)
const WITH_ERRORS = `Running 2s test @ http://127.0.0.1:8080/x
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   450.12us  120.00us   2.00ms   80.00%
    Req/Sec    20.00k     1.00k   22.00k    70.00%
  80000 requests in 2.00s, 1.50GB read
  Socket errors: connect 0, read 3, write 1, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  40000.00
Transfer/sec:      0.75GB
`;

describe('parseWrk', () => {
  test('reads rate, binary-unit transfer and latency from a clean run', () => {
    const r = parseWrk(CLEAN);
    expect(r.requests).toBe(10737);
    expect(r.reqPerSec).toBeCloseTo(9712.71);
    expect(r.bytesPerSec).toBeCloseTo(96.02 * 1024 ** 2);
    expect(r.latencyAvgMs).toBeCloseTo(0.88);
    expect(r.errors).toBe(0);
  });

  test('adds socket errors and non-2xx responses; converts us and GB', () => {
    const r = parseWrk(WITH_ERRORS);
    expect(r.errors).toBe(13);
    expect(r.latencyAvgMs).toBeCloseTo(0.45012);
    expect(r.bytesPerSec).toBeCloseTo(0.75 * 1024 ** 3);
  });

  test('refuses output without a summary', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(/Requests\/sec/);
  });
});
