# Monitor commands for the RGW test harness (test/helpers/rgw.ts), through librados: one process and
# one connection for every command, where the `ceph` CLI costs ~0.5 s of start-up per command.
# Run with Debian's /usr/bin/python3 (python3-rados). argv: ceph.conf, a JSON list of steps:
#   {"commands": [<mon command>, ...]}   run concurrently (the monitor folds those arriving together into fewer proposals)
#   {"osdUp": <id>}                      wait until that OSD is up in the osdmap
#   {"probe": <pool>}                    one read in the pool: returns once its PG serves I/O
# After each step it prints {"done": <index>} on its own line, so the caller can overlap work.
import json
import sys
import threading
import time

try:
    import rados
except ImportError:
    print('ceph-mon-commands.py: python3-rados is missing (apt-get install python3-rados), or this is not '
          'Debian\'s /usr/bin/python3', file=sys.stderr, flush=True)
    sys.exit(1)

TIMEOUT = 60


def main():
    conf, steps = sys.argv[1], json.loads(sys.argv[2])
    cluster = rados.Rados(conffile=conf, name='client.admin', conf={'rados_osd_op_timeout': str(TIMEOUT)})
    cluster.connect(timeout=TIMEOUT)
    for index, step in enumerate(steps):
        if 'commands' in step:
            run_concurrently(cluster, step['commands'])
        elif 'osdUp' in step:
            wait_osd_up(cluster, step['osdUp'])
        elif 'probe' in step:
            probe(cluster, step['probe'])
        else:
            raise ValueError('unknown step %r' % (step,))
        print(json.dumps({'done': index}), flush=True)
    cluster.shutdown()


def mon_command(cluster, command):
    if 'weight' in command:
        command = dict(command, weight=float(command['weight']))  # JSON from JS has no 1.0, ceph wants a float
    ret, out, status = cluster.mon_command(json.dumps(command), b'', timeout=TIMEOUT)
    if ret != 0:
        raise RuntimeError('%s failed (%d): %s' % (command.get('prefix'), ret, status))
    return out


def run_concurrently(cluster, commands):
    errors = []

    def one(command):
        try:
            mon_command(cluster, command)
        except Exception as err:  # reported below, with every other failure
            errors.append(str(err))

    threads = [threading.Thread(target=one, args=(c,)) for c in commands]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError('; '.join(errors))


def wait_osd_up(cluster, osd_id):
    deadline = time.monotonic() + TIMEOUT
    while True:
        dump = json.loads(mon_command(cluster, {'prefix': 'osd dump', 'format': 'json'}))
        if any(o['osd'] == osd_id and o['up'] == 1 for o in dump['osds']):
            return
        if time.monotonic() > deadline:
            raise RuntimeError('osd.%d not up after %d s' % (osd_id, TIMEOUT))
        time.sleep(0.05)


def probe(cluster, pool):
    ioctx = cluster.open_ioctx(pool)
    try:
        ioctx.stat('repoint-harness-probe')
    except rados.ObjectNotFound:
        pass  # the PG answered: it is active
    finally:
        ioctx.close()


if __name__ == '__main__':
    try:
        main()
    except Exception as err:
        print('ceph-mon-commands.py: %s' % err, file=sys.stderr, flush=True)
        sys.exit(1)
