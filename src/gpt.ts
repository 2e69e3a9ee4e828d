// A GPT made of Values: a character-level language model in the family of the reference
// microgpt.py, same math, same parameter names. Read it top to bottom: configuration,
// parameters, the forward pass of one position (embeddings, RMSNorm, attention with a
// key/value cache, MLP, head), the loss of a document, and sampling.
//
// Token ids may be plain numbers or Values. With Values, every choice that depends on a token
// (the embedding row, the target's probability) goes through Value.select, so that a traced
// and compiled loss can be replayed for other documents of the same length.
import { noGrad, Value } from "./engine.js";
import { Module } from "./nn.js";
import { checkOptions } from "./options.js";
import { createRandom, gaussian } from "./random.js";
import { type GenerateOptions, generateTokens } from "./sampling.js";

export type { GenerateOptions } from "./sampling.js";

// ---- configuration -------------------------------------------------------------------------

export interface GPTConfig {
  /** Distinct tokens, BOS included (27 on lower-case names). */
  vocabSize: number;
  /** Transformer blocks. */
  nLayer: number;
  /** Width of every vector that flows between the blocks. */
  nEmbd: number;
  /** Attention heads per block; each looks at nEmbd / nHead of the width. */
  nHead: number;
  /** The longest context: positions 0 … blockSize − 1. */
  blockSize: number;
}

/** The reference's sizes. */
export const GPT_DEFAULTS = { nLayer: 1, nEmbd: 16, nHead: 4, blockSize: 16 } as const;

export interface GPTOptions extends Partial<GPTConfig> {
  vocabSize: number;
  /** Seeds the initial weights (default: a random seed). */
  seed?: number;
  /** Standard deviation of the initial weights (default 0.08). */
  initStd?: number;
}

/** A row-major matrix of parameters: rows are outputs, as in the reference's state dict. */
export type Matrix = Value[][];

/** One transformer block's weights. */
export interface Block {
  attnWq: Matrix;
  attnWk: Matrix;
  attnWv: Matrix;
  attnWo: Matrix;
  mlpFc1: Matrix;
  mlpFc2: Matrix;
}

/** The keys and values computed so far, per layer, one vector per earlier position. */
export interface KVCache {
  keys: Value[][][];
  values: Value[][][];
  /** Filled when given: the attention weights of every layer, head and position (as numbers). */
  attention?: number[][][][];
}

/** A token id: a number, or a Value whose data is the id (for traced, compiled losses). */
export type Token = number | Value;

/** RMSNorm's ε: added to the mean square before the square root, so a zero vector stays finite. */
export const RMS_EPS = 1e-5;

export class GPT extends Module {
  readonly config: Readonly<GPTConfig>;
  /** Token embeddings [vocabSize][nEmbd]. */
  readonly wte: Matrix;
  /** Position embeddings [blockSize][nEmbd]. */
  readonly wpe: Matrix;
  /** Output head [vocabSize][nEmbd], not tied to wte. */
  readonly lmHead: Matrix;
  readonly blocks: Block[];
  // wte's columns, so that a Value token can select one entry per embedding dimension.
  private readonly wteColumns: Value[][];
  private readonly params: Value[];

  constructor(options: GPTOptions) {
    super();
    this.config = checkConfig(options);
    const { vocabSize, nLayer, nEmbd, blockSize } = this.config;
    const std = options.initStd ?? 0.08;
    if (!(typeof std === "number" && std >= 0 && Number.isFinite(std))) {
      throw new RangeError(`GPT: initStd must be a finite number >= 0, got ${String(std)}`);
    }
    const random = createRandom(options.seed);
    // Drawn in state-dict order, as the reference does.
    const matrix = (rows: number, cols: number): Matrix =>
      Array.from({ length: rows }, () =>
        Array.from({ length: cols }, () => new Value(gaussian(random) * std)),
      );
    this.wte = matrix(vocabSize, nEmbd);
    this.wpe = matrix(blockSize, nEmbd);
    this.lmHead = matrix(vocabSize, nEmbd);
    this.blocks = Array.from({ length: nLayer }, () => ({
      attnWq: matrix(nEmbd, nEmbd),
      attnWk: matrix(nEmbd, nEmbd),
      attnWv: matrix(nEmbd, nEmbd),
      attnWo: matrix(nEmbd, nEmbd),
      mlpFc1: matrix(4 * nEmbd, nEmbd),
      mlpFc2: matrix(nEmbd, 4 * nEmbd),
    }));
    this.wteColumns = Array.from({ length: nEmbd }, (_, j) => this.wte.map((row) => row[j]));
    this.params = this.namedParameters().flatMap(([, m]) => m.flat());
  }

  /** Every weight matrix with its state-dict name, in the reference's order. */
  namedParameters(): [string, Matrix][] {
    const named: [string, Matrix][] = [
      ["wte", this.wte],
      ["wpe", this.wpe],
      ["lm_head", this.lmHead],
    ];
    this.blocks.forEach((block, i) => {
      named.push(
        [`layer${i}.attn_wq`, block.attnWq],
        [`layer${i}.attn_wk`, block.attnWk],
        [`layer${i}.attn_wv`, block.attnWv],
        [`layer${i}.attn_wo`, block.attnWo],
        [`layer${i}.mlp_fc1`, block.mlpFc1],
        [`layer${i}.mlp_fc2`, block.mlpFc2],
      );
    });
    return named;
  }

  /** All weights, flattened row by row in state-dict order (4,192 with the defaults on names). */
  parameters(): Value[] {
    return this.params.slice();
  }

  /** The weights as plain numbers by name: { wte: [[…], …], … }, rows are outputs. */
  stateDict(): Record<string, number[][]> {
    const dict: Record<string, number[][]> = {};
    for (const [name, m] of this.namedParameters()) dict[name] = m.map((row) => row.map((p) => p.data));
    return dict;
  }

  /**
   * Sets every weight from a state dict (such as one dumped as JSON from the Python reference).
   * Every name, shape and number is checked before anything changes; errors name the key.
   */
  loadStateDict(dict: unknown): void {
    checkStateDict(this.config, dict);
    const given = dict as Record<string, number[][]>;
    for (const [name, m] of this.namedParameters()) {
      const rows = given[name];
      m.forEach((row, i) => {
        row.forEach((p, j) => {
          p.data = rows[i][j];
        });
      });
    }
  }

  /** An empty key/value cache, for feeding a document one position at a time. */
  newCache(recordAttention = false): KVCache {
    const { nLayer, nHead } = this.config;
    const perLayer = () => Array.from({ length: nLayer }, () => []);
    const cache: KVCache = { keys: perLayer(), values: perLayer() };
    if (recordAttention) {
      cache.attention = Array.from({ length: nLayer }, () => Array.from({ length: nHead }, () => []));
    }
    return cache;
  }

  // ---- the forward pass of one position --------------------------------------------------

  /**
   * The logits of the token after `token` at position `position`, given the earlier positions'
   * keys and values in `cache` (to which this position's are added).
   */
  forward(token: Token, position: number, cache: KVCache): Value[] {
    const { nLayer, blockSize } = this.config;
    if (!Number.isInteger(position) || position < 0 || position >= blockSize) {
      throw new RangeError(`GPT.forward: position ${position} is outside the block 0..${blockSize - 1}`);
    }
    if (cache.keys[0]?.length !== position) {
      throw new RangeError(
        `GPT.forward: the cache holds ${cache.keys[0]?.length} positions; feed positions in order from 0`,
      );
    }
    const tokenEmbedding = this.embed(token);
    const positionEmbedding = this.wpe[position];
    let x = rmsnorm(tokenEmbedding.map((t, i) => t.add(positionEmbedding[i])));
    for (let layer = 0; layer < nLayer; layer++) {
      const block = this.blocks[layer];
      x = residual(x, this.attention(rmsnorm(x), block, layer, cache));
      x = residual(x, mlp(rmsnorm(x), block));
    }
    return linear(x, this.lmHead);
  }

  /** Row `token` of wte; for a Value token, one recorded selection per embedding dimension. */
  private embed(token: Token): Value[] {
    const id = checkToken(token, this.config.vocabSize);
    if (token instanceof Value) return this.wteColumns.map((column) => Value.select(column, token));
    return this.wte[id];
  }

  /**
   * Causal self-attention of the newest position: each head compares its query with the keys
   * of every position so far, and returns the softmax-weighted average of their values.
   */
  private attention(x: Value[], block: Block, layer: number, cache: KVCache): Value[] {
    const { nEmbd, nHead } = this.config;
    const headDim = nEmbd / nHead;
    const scale = 1 / Math.sqrt(headDim);
    const q = linear(x, block.attnWq);
    const keys = cache.keys[layer];
    const values = cache.values[layer];
    keys.push(linear(x, block.attnWk));
    values.push(linear(x, block.attnWv));
    const heads: Value[] = [];
    for (let h = 0; h < nHead; h++) {
      const start = h * headDim;
      const scores = keys.map((k) => {
        const terms: Value[] = new Array(headDim);
        for (let j = 0; j < headDim; j++) terms[j] = q[start + j].mul(k[start + j]);
        return Value.sum(terms).mul(scale);
      });
      const weights = softmax(scores);
      cache.attention?.[layer][h].push(weights.map((w) => w.data));
      for (let j = 0; j < headDim; j++) {
        heads.push(Value.sum(weights.map((w, t) => w.mul(values[t][start + j]))));
      }
    }
    return linear(heads, block.attnWo);
  }

  // ---- the loss of a document --------------------------------------------------------------

  /**
   * The mean over positions of −log p(next token): tokens are ids with BOS at both ends;
   * positions beyond the block are not seen (n = min(blockSize, tokens.length − 1)).
   */
  loss(tokens: readonly Token[]): Value {
    if (!Array.isArray(tokens) || tokens.length < 2) {
      throw new RangeError(
        `GPT.loss: a document needs at least 2 tokens (BOS, …, BOS), got ${tokens?.length}`,
      );
    }
    const n = Math.min(this.config.blockSize, tokens.length - 1);
    const cache = this.newCache();
    const losses: Value[] = [];
    for (let position = 0; position < n; position++) {
      const logits = this.forward(tokens[position], position, cache);
      const target = tokens[position + 1];
      checkToken(target, this.config.vocabSize);
      const probabilities = softmax(logits);
      losses.push(Value.select(probabilities, target).log().neg());
    }
    return Value.sum(losses).mul(1 / n);
  }

  /** Attention weights of every layer and head over a document, [layer][head][query][key]. */
  attentionWeights(tokens: readonly number[]): number[][][][] {
    const n = Math.min(this.config.blockSize, tokens.length);
    const cache = this.newCache(true);
    noGrad(() => {
      for (let position = 0; position < n; position++) this.forward(tokens[position], position, cache);
    });
    return cache.attention as number[][][][];
  }

  // ---- sampling ----------------------------------------------------------------------------

  /**
   * Continues `prefix` (ids after the opening BOS) one sampled token at a time until the model
   * emits `bos` or the block is full (or `length` tokens, sliding past the block); returns the
   * prefix and the sampled ids, without BOS. Decoding options as sampling.ts describes them.
   */
  generate(options: GenerateOptions): number[] {
    return generateTokens(this, options).ids;
  }

  override toString(): string {
    const { vocabSize, nLayer, nEmbd, nHead, blockSize } = this.config;
    return `GPT(vocab ${vocabSize}, ${nLayer} layer${nLayer === 1 ? "" : "s"}, embd ${nEmbd}, ${nHead} heads, block ${blockSize}; ${this.params.length} parameters)`;
  }
}

// ---- the building blocks ---------------------------------------------------------------------

/** w · x for each row w of the matrix: no bias anywhere in this model. */
function linear(x: readonly Value[], w: Matrix): Value[] {
  return w.map((row) => {
    const terms: Value[] = new Array(row.length);
    for (let i = 0; i < row.length; i++) terms[i] = row[i].mul(x[i]);
    return Value.sum(terms);
  });
}

/** x / √(mean(x²) + ε), without a gain. */
function rmsnorm(x: readonly Value[]): Value[] {
  const meanSquare = Value.sum(x.map((xi) => xi.mul(xi))).mul(1 / x.length);
  const scale = meanSquare.add(RMS_EPS).pow(-0.5);
  return x.map((xi) => xi.mul(scale));
}

/**
 * exp(xᵢ − max) / Σ exp(xⱼ − max). Shifting by the maximum keeps exp from overflowing and does
 * not change the result; the maximum is a Value (a chain of max nodes) so that a compiled trace
 * recomputes it for new inputs instead of keeping the traced run's number.
 */
function softmax(logits: readonly Value[]): Value[] {
  const shift = Value.max(logits);
  const exps = logits.map((l) => l.sub(shift).exp());
  const total = Value.sum(exps);
  return exps.map((e) => e.div(total));
}

function mlp(x: readonly Value[], block: Block): Value[] {
  return linear(
    linear(x, block.mlpFc1).map((h) => h.relu()),
    block.mlpFc2,
  );
}

function residual(x: readonly Value[], update: readonly Value[]): Value[] {
  return update.map((u, i) => u.add(x[i]));
}

// ---- checks ----------------------------------------------------------------------------------

const BLOCK_MATRICES = ["attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2"] as const;

/**
 * The name and shape [rows, columns] of every weight matrix of a GPT with this config, in
 * state-dict order, one at a time: a file's sizes can be checked without building anything.
 */
function* matrixShapes(config: GPTConfig): Generator<[name: string, rows: number, columns: number]> {
  const { vocabSize, nLayer, nEmbd, blockSize } = config;
  yield ["wte", vocabSize, nEmbd];
  yield ["wpe", blockSize, nEmbd];
  yield ["lm_head", vocabSize, nEmbd];
  for (let layer = 0; layer < nLayer; layer++) {
    for (const matrix of BLOCK_MATRICES) {
      const rows = matrix === "mlp_fc1" ? 4 * nEmbd : nEmbd;
      const columns = matrix === "mlp_fc2" ? 4 * nEmbd : nEmbd;
      yield [`layer${layer}.${matrix}`, rows, columns];
    }
  }
}

/** Whether `key` names a matrix of a GPT with `nLayer` blocks, without listing them all. */
function isMatrixName(key: string, nLayer: number): boolean {
  if (key === "wte" || key === "wpe" || key === "lm_head") return true;
  const match = /^layer(0|[1-9]\d*)\.(\w+)$/.exec(key);
  return (
    match !== null && Number(match[1]) < nLayer && (BLOCK_MATRICES as readonly string[]).includes(match[2])
  );
}

/**
 * Checks that `dict` holds exactly the matrices a GPT of `config` has, each of its shape and
 * of finite numbers, before any weight is made: a file that claims 100,000 layers or a
 * vocabulary its matrices do not have is refused for what it holds, not after allocating.
 */
export function checkStateDict(config: GPTConfig, dict: unknown): void {
  if (typeof dict !== "object" || dict === null || Array.isArray(dict)) {
    throw new TypeError("loadStateDict: expected an object of named matrices");
  }
  const given = dict as Record<string, unknown>;
  const keys = Object.keys(given);
  const extra = keys.find((key) => !isMatrixName(key, config.nLayer));
  if (extra !== undefined) {
    const layers = config.nLayer === 1 ? "layer0" : `layer0 … layer${config.nLayer - 1}`;
    throw new RangeError(
      `loadStateDict: unexpected key "${extra.length > 60 ? `${extra.slice(0, 57)}...` : extra}"; ` +
        `this model (${config.nLayer} layer${config.nLayer === 1 ? "" : "s"}) has wte, wpe, lm_head and ` +
        `${layers}.${BLOCK_MATRICES.join("/")}`,
    );
  }
  for (const [name, rowCount, columnCount] of matrixShapes(config)) {
    const rows = given[name];
    const shape = `[${rowCount}][${columnCount}]`;
    if (rows === undefined) throw new RangeError(`loadStateDict: "${name}" is missing (expected ${shape})`);
    if (!Array.isArray(rows) || rows.length !== rowCount) {
      throw new RangeError(
        `loadStateDict: "${name}" must have ${rowCount} rows (shape ${shape}), got ${describeShape(rows)}`,
      );
    }
    rows.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== columnCount) {
        throw new RangeError(
          `loadStateDict: "${name}"[${i}] must have ${columnCount} numbers (shape ${shape}), got ${describeShape(row)}`,
        );
      }
      row.forEach((x, j) => {
        if (typeof x !== "number" || !Number.isFinite(x)) {
          throw new RangeError(`loadStateDict: "${name}"[${i}][${j}] is ${String(x)}, not a finite number`);
        }
      });
    });
  }
}

/** The config of a GPT built with these options, checked (defaults filled in); nothing is built. */
export function checkConfig(options: GPTOptions): GPTConfig {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("GPT: expected options { vocabSize, nLayer, nEmbd, nHead, blockSize, seed }");
  }
  checkOptions("GPT", options, {
    vocabSize: true,
    nLayer: true,
    nEmbd: true,
    nHead: true,
    blockSize: true,
    seed: true,
    initStd: true,
  });
  const config: GPTConfig = {
    vocabSize: options.vocabSize,
    nLayer: options.nLayer ?? GPT_DEFAULTS.nLayer,
    nEmbd: options.nEmbd ?? GPT_DEFAULTS.nEmbd,
    nHead: options.nHead ?? GPT_DEFAULTS.nHead,
    blockSize: options.blockSize ?? GPT_DEFAULTS.blockSize,
  };
  for (const [name, value] of Object.entries(config)) {
    const least = name === "vocabSize" ? 2 : 1;
    if (typeof value !== "number" || !Number.isInteger(value) || value < least || value > 100_000) {
      throw new RangeError(`GPT: ${name} must be an integer from ${least} to 100000, got ${String(value)}`);
    }
  }
  if (config.nEmbd % config.nHead !== 0) {
    throw new RangeError(`GPT: nEmbd (${config.nEmbd}) must be a multiple of nHead (${config.nHead})`);
  }
  return config;
}

function checkToken(token: Token, vocabSize: number): number {
  const id = token instanceof Value ? token.data : token;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new RangeError(`GPT: token ${String(id)} is not an id in 0..${vocabSize - 1}`);
  }
  return id;
}

function describeShape(x: unknown): string {
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return x === null ? "null" : typeof x;
}

// ---- sizes, before anything is built ----------------------------------------------------------

/** wte, wpe and lm_head, and per block 4 attention matrices and the MLP's two (12·embd²). */
export function gptParameterCount(shape: GPTConfig): number {
  const { vocabSize, nLayer, nEmbd, blockSize } = shape;
  return (2 * vocabSize + blockSize) * nEmbd + nLayer * 12 * nEmbd * nEmbd;
}

/**
 * How many Values a training step holds at once, at the most: the parameters and the graph of
 * `atOnce` documents as long as the block (every position's forward pass: a product per weight
 * and a sum per output of each matrix, the norms, attention over the positions so far, the
 * softmax of the head). trainGPT builds or traces one document or window at a time, whatever
 * the batch, so compiled `atOnce` is the number of threads (1, or one per worker); eager, the
 * garbage of a batch's earlier graphs counts too (the CLI's gptDocumentsAtPeak says how many).
 * Counted from how this file builds them; test/limits.test.ts checks it against a real graph.
 */
export function gptStepGraphSize(shape: GPTConfig, atOnce = 1): number {
  const { vocabSize: V, nLayer, nEmbd: E, nHead: H, blockSize } = shape;
  const linear = (outputs: number, inputs: number) => outputs * (inputs + 1);
  const rmsnorm = 2 * E + 5;
  const softmax = (k: number) => 4 * k + 1;
  let document = 2;
  for (let t = 1; t <= blockSize; t++) {
    const attention = H * (t * (E / H + 2) + softmax(t)) + E * (t + 1);
    const layer =
      2 * rmsnorm + 4 * linear(E, E) + attention + linear(4 * E, E) + 4 * E + linear(E, 4 * E) + 2 * E;
    document += E + rmsnorm + nLayer * layer + linear(V, E) + softmax(V) + 3;
  }
  return gptParameterCount(shape) + atOnce * document + 2;
}
