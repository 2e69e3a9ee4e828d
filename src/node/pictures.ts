// Pictures as files: SVG rasterised to PNG (@resvg/resvg-js), the decision boundary during training
// as an animated GIF (gifenc), and the set of pictures a training run writes. Node only.
//
// Both packages are optional dependencies, loaded on first use: this module itself always loads,
// and a missing package is an Error that says what to install.
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { extname, join } from "node:path";
import { accuracy, checkOptions, type Dataset, type MLP, type Value } from "../index.js";
import { decisionBoundarySvg } from "../viz/boundary.js";
import { type CurvePoint, trainingCurvesSvg } from "../viz/curves.js";
import type { DotOptions } from "../viz/dot.js";
import { toDot } from "../viz/dot.js";
import { renderGraph } from "../viz/graph.js";
import { writeFileAtomic } from "./files.js";

const require = createRequire(import.meta.url);

interface ResvgModule {
  Resvg: new (
    svg: string,
    options?: {
      fitTo?: { mode: "width" | "zoom"; value: number };
      background?: string;
      font?: { loadSystemFonts?: boolean; sansSerifFamily?: string; defaultFontFamily?: string };
    },
  ) => { render(): { asPng(): Uint8Array; pixels: Uint8Array; width: number; height: number } };
}

type Palette = number[][];
interface GifencModule {
  GIFEncoder(): {
    writeFrame(
      index: Uint8Array,
      width: number,
      height: number,
      options: { palette: Palette; delay: number },
    ): void;
    finish(): void;
    bytes(): Uint8Array;
  };
  quantize(rgba: Uint8Array, maxColors: number): Palette;
  applyPalette(rgba: Uint8Array, palette: Palette): Uint8Array;
}

function optional<T>(name: string, purpose: string): T {
  try {
    return require(name) as T;
  } catch (error) {
    // Not installed is the usual case and needs no detail; anything else (a broken install)
    // gets its first line, never Node's "Require stack".
    const code = (error as NodeJS.ErrnoException).code;
    const detail = code === "MODULE_NOT_FOUND" ? "" : ` (${(error as Error).message.split("\n")[0]})`;
    throw new Error(
      `${purpose} needs the optional package ${name}, which is not installed: npm install ${name}${detail}`,
    );
  }
}

export interface PngOptions {
  /** Width of the image in pixels; the height follows the SVG's proportions. Default: the SVG's own width. */
  width?: number;
  /** Scale the SVG's own size by this factor instead (ignored when `width` is given). */
  scale?: number;
  /** CSS colour behind the picture; default "white". */
  background?: string;
}

/** Rasterises SVG text to PNG bytes, with the system's fonts for the text. */
export function svgToPng(svg: string, options: PngOptions = {}): Uint8Array {
  return rasterise(svg, options).asPng();
}

function rasterise(svg: string, options: PngOptions) {
  const { Resvg } = optional<ResvgModule>("@resvg/resvg-js", "svgToPng");
  const {
    width,
    scale,
    background = "white",
  } = checkOptions("svgToPng", options, {
    width: true,
    scale: true,
    background: true,
  });
  if (width !== undefined && !(Number.isInteger(width) && width >= 1 && width <= 16384)) {
    throw new RangeError(`svgToPng: width must be an integer from 1 to 16384 pixels, got ${width}`);
  }
  if (scale !== undefined && !(scale > 0 && scale <= 16)) {
    throw new RangeError(`svgToPng: scale must be a number above 0 and at most 16, got ${scale}`);
  }
  const fitTo =
    width !== undefined
      ? { mode: "width" as const, value: width }
      : scale !== undefined
        ? { mode: "zoom" as const, value: scale }
        : undefined;
  return new Resvg(svg, { fitTo, background, font: { loadSystemFonts: true, ...SANS_SERIF } }).render();
}

// resvg resolves the generic "sans-serif" to Arial; where Arial is missing (Debian and most Linux
// systems) it would fall back to whatever font comes first, often a serif one. DejaVu Sans is there instead.
const SANS_SERIF = existsSync("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
  ? { sansSerifFamily: "DejaVu Sans", defaultFontFamily: "DejaVu Sans" }
  : {};

export interface AnimationOptions {
  /** Frame size in pixels; default 360 × 340. */
  width?: number;
  height?: number;
  /** Grid cells per side of each frame; default 40 (frames are small). */
  resolution?: number;
  /** How long each frame shows, in milliseconds; default 120. The last frame stays 2 s. */
  delay?: number;
}

/** What a frame's caption may be made from: a string, or a record of `fit`'s history. */
export type Caption = string | { step: number; loss?: number; accuracy?: number };

/**
 * The decision boundary as training proceeds, as an animated GIF. Call `addFrame(model, record)`
 * from `fit`'s `onStep` every few steps, then `toGif()`.
 */
export class BoundaryAnimation {
  private readonly frames: { index: Uint8Array; palette: Palette }[] = [];
  private readonly width: number;
  private readonly height: number;
  private readonly resolution: number;
  private readonly delay: number;

  constructor(
    readonly data: Dataset,
    options: AnimationOptions = {},
  ) {
    checkOptions("BoundaryAnimation", options, { width: true, height: true, resolution: true, delay: true });
    this.width = options.width ?? 360;
    this.height = options.height ?? 340;
    this.resolution = options.resolution ?? 40;
    this.delay = options.delay ?? 120;
    if (!(this.delay >= 0 && Number.isFinite(this.delay))) {
      throw new RangeError(
        `BoundaryAnimation: delay must be a number of milliseconds >= 0, got ${this.delay}`,
      );
    }
  }

  get frameCount(): number {
    return this.frames.length;
  }

  /** Draws the boundary of `model` as it is now; the caption defaults to the frame number. */
  addFrame(model: MLP, caption?: Caption): void {
    const gifenc = optional<GifencModule>("gifenc", "BoundaryAnimation");
    const svg = decisionBoundarySvg(model, this.data, {
      width: this.width,
      height: this.height,
      resolution: this.resolution,
      legend: false,
      title: captionText(caption, this.frames.length + 1),
    });
    const image = rasterise(svg, {});
    const rgba = new Uint8Array(image.pixels);
    // Each frame gets its own palette of up to 256 colours; stored indexed, it takes a quarter of the memory.
    const palette = gifenc.quantize(rgba, 256);
    this.frames.push({ index: gifenc.applyPalette(rgba, palette), palette });
  }

  /** The frames so far as an animated GIF that loops forever. */
  toGif(): Uint8Array {
    if (this.frames.length === 0)
      throw new RangeError("BoundaryAnimation.toGif: no frames (call addFrame first)");
    const gifenc = optional<GifencModule>("gifenc", "BoundaryAnimation");
    const gif = gifenc.GIFEncoder();
    this.frames.forEach((frame, i) => {
      const last = i === this.frames.length - 1;
      gif.writeFrame(frame.index, this.width, this.height, {
        palette: frame.palette,
        delay: last ? Math.max(2000, this.delay) : this.delay,
      });
    });
    gif.finish();
    return gif.bytes();
  }
}

function captionText(caption: Caption | undefined, frame: number): string {
  if (caption === undefined) return `frame ${frame}`;
  if (typeof caption === "string") return caption;
  const parts = [`step ${caption.step}`];
  if (caption.loss !== undefined) parts.push(`loss ${caption.loss.toFixed(3)}`);
  if (caption.accuracy !== undefined) parts.push(`accuracy ${(caption.accuracy * 100).toFixed(0)}%`);
  return parts.join(" · ");
}

export interface TrainingPictures {
  model: MLP;
  /** The training data; the boundary pictures need it, and a model of 2 inputs. */
  data?: Dataset;
  history: readonly CurvePoint[];
  animation?: BoundaryAnimation;
  /** Heads the pictures, e.g. "moons: MLP 2-16-16-1". */
  title?: string;
  /**
   * Told of a picture that could not be made; the others are still written. Without it, the
   * others are written and then an Error names every picture that failed.
   */
  onError?: (name: string, error: Error) => void;
}

/**
 * Writes boundary.svg and boundary.png (when there is 2-D data), curves.svg and curves.png, and
 * training.gif (when an animation has frames) into `dir`, each atomically. A picture that fails
 * does not stop the others. Returns the paths written.
 */
export async function writeTrainingPictures(dir: string, pictures: TrainingPictures): Promise<string[]> {
  const { model, data, history, animation, title, onError } = pictures;
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const failed: string[] = [];
  // Each picture is made from what the one before it made (the PNG from its SVG): a failed SVG
  // takes its PNG with it.
  const attempt = async <T>(name: string, make: () => T): Promise<T | undefined> => {
    // Between pictures, let other work run (a Ctrl-C handler, a progress display).
    await new Promise((resolve) => setImmediate(resolve));
    try {
      const content = make();
      writeFileAtomic(join(dir, name), content as string | Uint8Array);
      written.push(join(dir, name));
      return content;
    } catch (error) {
      failed.push(`${name} (${(error as Error).message})`);
      onError?.(name, error as Error);
      return undefined;
    }
  };
  if (data && model.nin === 2 && data.X[0]?.length === 2) {
    const boundary = await attempt("boundary.svg", () => {
      const percent = `accuracy ${(accuracy(model, data) * 100).toFixed(0)}%`;
      return decisionBoundarySvg(model, data, { title: title ? `${title} · ${percent}` : undefined });
    });
    await attempt("boundary.png", () => svgToPng(boundary ?? noSvg("boundary.svg"), { scale: 2 }));
  }
  const curves = await attempt("curves.svg", () => trainingCurvesSvg(history, title ? { title } : {}));
  await attempt("curves.png", () => svgToPng(curves ?? noSvg("curves.svg"), { scale: 2 }));
  if (animation && animation.frameCount > 0) await attempt("training.gif", () => animation.toGif());
  if (failed.length > 0 && !onError) {
    throw new Error(
      `writeTrainingPictures: could not make ${failed.join(", ")}; the other pictures were written`,
    );
  }
  return written;
}

function noSvg(name: string): never {
  throw new Error(`${name} could not be made, so there is nothing to rasterise`);
}

/** Draws the graph behind `root` to `path`: .svg, .png or .dot, by its extension. Returns the path. */
export async function writeGraphPicture(
  path: string,
  root: Value,
  options: DotOptions = {},
): Promise<string> {
  const extension = extname(path).toLowerCase();
  if (extension === ".dot") {
    writeFileAtomic(path, toDot(root, options));
  } else if (extension === ".svg") {
    writeFileAtomic(path, await renderGraph(root, options));
  } else if (extension === ".png") {
    writeFileAtomic(path, svgToPng(await renderGraph(root, options), { scale: 2 }));
  } else {
    throw new RangeError(`writeGraphPicture: ${path}: the file must end in .svg, .png or .dot`);
  }
  return path;
}
