/** Progress for long jobs: a live line on a terminal, periodic lines otherwise. */
export class Progress {
  #label: string;
  #tty: boolean;
  #last = 0;
  #stream: NodeJS.WriteStream;

  constructor(label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#stream = stream;
    this.#tty = Boolean(stream.isTTY);
  }

  update(text: string): void {
    const now = Date.now();
    if (now - this.#last < (this.#tty ? 200 : 10_000)) return;
    this.#last = now;
    if (this.#tty) this.#stream.write(`\r\x1b[2K${this.#label}: ${text}`);
    else this.#stream.write(`${this.#label}: ${text}\n`);
  }

  done(text: string): void {
    this.#stream.write(`${this.#tty ? '\r\x1b[2K' : ''}${this.#label}: ${text}\n`);
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
