/** The part of cli-progress (no bundled types) the runner uses. */
declare module 'cli-progress' {
  export interface Options {
    format?: string;
    hideCursor?: boolean;
    clearOnComplete?: boolean;
    stopOnComplete?: boolean;
    etaBuffer?: number;
    stream?: NodeJS.WritableStream;
  }
  export interface Preset {
    readonly barCompleteChar: string;
    readonly barIncompleteChar: string;
  }
  export class SingleBar {
    constructor(options: Options, preset?: Preset);
    start(total: number, start: number, payload?: Record<string, unknown>): void;
    update(value: number, payload?: Record<string, unknown>): void;
    stop(): void;
  }
  export class MultiBar {
    constructor(options: Options, preset?: Preset);
    create(total: number, start: number, payload?: Record<string, unknown>): SingleBar;
    log(text: string): void;
    stop(): void;
  }
  export const Presets: { readonly shades_classic: Preset; readonly legacy: Preset; readonly rect: Preset };
  const cliProgress: { SingleBar: typeof SingleBar; MultiBar: typeof MultiBar; Presets: typeof Presets };
  export default cliProgress;
}
