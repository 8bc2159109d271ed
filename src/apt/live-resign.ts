import { createHash } from 'node:crypto';
import { SingleFlight } from '../fill/single-flight.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import { stateKeys } from '../state/keys.ts';
import type { Signer } from '../trust/signer.ts';
import { writeRelease } from './formats/release-writer.ts';
import type { ReleaseFile } from './formats/release.ts';

/** The blobs a live `resign` remote serves for one verified upstream Release text. */
export interface ResignedRelease {
  release: string;
  inRelease: string;
  /** Armored detached signature over `release` (apt refuses a binary one). */
  releaseGpg: string;
}

function isResigned(v: unknown): v is ResignedRelease {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r['release'] === 'string' && typeof r['inRelease'] === 'string' && typeof r['releaseGpg'] === 'string';
}

export interface LiveResignerDeps {
  content: ContentService;
  signer: Signer;
  /** `<base>/<remote>/@SNAPSHOTID@/` (config/public-url.ts: never a request header). */
  snapshotsUrl: () => string;
  /** The parsed verified text (ReleaseStore.parsed): only text that passed verification has a record. */
  parsed: (textSha256: string) => Promise<ReleaseFile>;
  log: Logger;
}

/**
 * Re-signs a live suite's verified Release with the mirror key, adding `Snapshots:` so that
 * `apt -S <id>` reaches this mirror's checkpoints. Signing happens once per verified text (and
 * signer and Snapshots URL): the outputs are stored as blobs and named in a state record, shared by
 * every request and every node; concurrent requests in this process share one signing run. The
 * Release text is a pure function of the verified text, so a Release.gpg signed at any time pairs
 * with the Release served.
 */
export class LiveResigner {
  readonly #deps: LiveResignerDeps;
  readonly #flight = new SingleFlight<ResignedRelease>();

  constructor(deps: LiveResignerDeps) {
    this.#deps = deps;
  }

  /** The re-signed outputs for a verified text, made now if none are stored. */
  async outputs(textSha256: string): Promise<ResignedRelease> {
    const url = this.#deps.snapshotsUrl();
    const key = stateKeys.aptResigned(textSha256, this.#deps.signer.fingerprint, createHash('sha256').update(url).digest('hex').slice(0, 16));
    const stored = await this.#deps.content.state.get<unknown>(key);
    if (isResigned(stored) && (await this.#intact(stored))) return stored;
    return this.#flight.run(key, () => this.#sign(key, textSha256, url));
  }

  async #intact(r: ResignedRelease): Promise<boolean> {
    for (const sha of [r.release, r.inRelease, r.releaseGpg]) if (!(await this.#deps.content.hit(sha))) return false;
    return true;
  }

  async #sign(key: string, textSha256: string, snapshotsUrl: string): Promise<ResignedRelease> {
    const { content, signer } = this.#deps;
    const text = writeRelease(await this.#deps.parsed(textSha256), { snapshotsUrl, validUntil: 'upstream' });
    const bytes = Buffer.from(text);
    const [release, inRelease, releaseGpg] = await Promise.all([
      content.storeBytes(bytes),
      signer.clearsign(text).then((s) => content.storeBytes(Buffer.from(s))),
      signer.detachSignArmored(bytes).then((s) => content.storeBytes(Buffer.from(s))),
    ]);
    const out: ResignedRelease = { release: release.sha256, inRelease: inRelease.sha256, releaseGpg: releaseGpg.sha256 };
    await content.state.set(key, out);
    this.#deps.log.info('re-signed live Release', { text: textSha256, snapshots: snapshotsUrl });
    return out;
  }
}
