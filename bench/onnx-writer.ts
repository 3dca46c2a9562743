// A minimal ONNX ModelProto writer for the peer benchmarks (bench/peers.ts): the
// protobuf wire format (varints, length-delimited fields) and the handful of
// ONNX messages a float32 inference graph needs. Written here rather than taken from
// a library because it is about as long as the glue to one would be, it runs inside
// the benchmark bundle (no Python, no extra npm package), and large initializers are
// passed through as chunks, never copied until the final buffer.
//
// Field numbers are onnx.proto's (ONNX IR 8); repeated scalars are written unpacked,
// which every protobuf parser accepts for proto2 fields.

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

/** Protobuf encoder: a list of chunks, so nested messages and big tensors are never re-copied. */
class ProtoWriter {
  readonly chunks: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(value: number | bigint): void {
    // int64 fields: negative values are ten-byte two's complement, as protobuf specifies.
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.key(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, WIRE_BYTES);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, inner: ProtoWriter): this {
    this.key(field, WIRE_BYTES);
    this.varint(inner.length);
    for (const c of inner.chunks) this.push(c);
    return this;
  }

  /** Appends another writer's fields as they are (repeated fields of the same message). */
  append(other: ProtoWriter): this {
    for (const c of other.chunks) this.push(c);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

// onnx.proto: TensorProto.DataType and AttributeProto.AttributeType.
const DT_FLOAT = 1;
const DT_INT64 = 7;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

/** A node attribute: numbers are INT unless wrapped by `float()`; arrays are INTS. */
export type AttrValue = number | number[] | string | { float: number };
export const float = (value: number): { float: number } => ({ float: value });

function attribute(name: string, value: AttrValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof value === 'string') return a.bytes(4, new TextEncoder().encode(value)).int(20, ATTR_STRING);
  if (Array.isArray(value)) {
    for (const v of value) a.int(8, v);
    return a.int(20, ATTR_INTS);
  }
  if (typeof value === 'object') return a.float(2, value.float).int(20, ATTR_FLOAT);
  if (!Number.isInteger(value)) throw new RangeError(`onnx attribute '${name}': ${value} is not an integer; wrap floats in float()`);
  return a.int(3, value).int(20, ATTR_INT);
}

function tensorProto(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): ProtoWriter {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new RangeError(`onnx initializer '${name}': ${data.length} values for dims [${dims.join(', ')}]`);
  const t = new ProtoWriter();
  for (const d of dims) t.int(1, d);
  t.int(2, data instanceof Float32Array ? DT_FLOAT : DT_INT64);
  t.string(8, name);
  // raw_data is little-endian; typed arrays are in host order, little-endian on every target we run.
  return t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function valueInfo(name: string, dims: readonly number[] | null): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, DT_FLOAT);
  if (dims) {
    const shape = new ProtoWriter();
    for (const d of dims) shape.message(1, new ProtoWriter().int(1, d));
    tensorType.message(2, shape);
  }
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

/**
 * An ONNX graph under construction (default domain, opset 17). `node()` returns its
 * output name, so graphs read like the code they mirror:
 *   const y = g.node('Relu', [g.node('Conv', [x, w, b], { pads: [1, 1, 1, 1] })]);
 */
export class OnnxGraph {
  private readonly nodes = new ProtoWriter();
  private readonly initializers = new ProtoWriter();
  private readonly inputs = new ProtoWriter();
  private readonly outputs = new ProtoWriter();
  private counter = 0;
  /** Nodes by op type: what the graph holds, for reports. */
  readonly opCounts = new Map<string, number>();
  /** Bytes of initializer data. */
  initializerBytes = 0;

  constructor(readonly name: string, readonly opset = 17) {}

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, dims: readonly number[]): string {
    this.inputs.message(11, valueInfo(name, dims));
    return name;
  }

  /** Marks `value` (a node output) as a graph output; its shape is left for the runtime to infer. */
  output(value: string): string {
    this.outputs.message(12, valueInfo(value, null));
    return value;
  }

  initializer(dims: readonly number[], data: Float32Array | BigInt64Array, name = this.fresh('w')): string {
    this.initializers.message(5, tensorProto(name, dims, data));
    this.initializerBytes += data.byteLength;
    return name;
  }

  /** An int64 constant (shapes for Reshape, sizes for Resize), stored as an initializer. */
  ints(values: readonly number[]): string {
    return this.initializer([values.length], BigInt64Array.from(values.map(BigInt)), this.fresh('shape'));
  }

  /** A float32 scalar-like constant of shape `dims`. */
  floats(dims: readonly number[], values: readonly number[]): string {
    return this.initializer(dims, Float32Array.from(values), this.fresh('const'));
  }

  /** Adds a node with one output and returns that output's name ('' in `inputs` = an omitted optional input). */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, outputName?: string): string {
    const out = outputName ?? this.fresh(op.toLowerCase());
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1, i);
    n.string(2, out).string(3, out).string(4, op);
    for (const [k, v] of Object.entries(attrs)) n.message(5, attribute(k, v));
    this.nodes.message(1, n);
    this.opCounts.set(op, (this.opCounts.get(op) ?? 0) + 1);
    return out;
  }

  /** The serialized ModelProto. */
  toBytes(): Uint8Array {
    const graph = new ProtoWriter().append(this.nodes).string(2, this.name).append(this.initializers).append(this.inputs).append(this.outputs);
    return new ProtoWriter()
      .int(1, 8) // ir_version 8 (ONNX 1.13+, opset 17)
      .string(2, 'mem3d-webgpu bench/onnx-writer.ts')
      .message(7, graph)
      .message(8, new ProtoWriter().string(1, '').int(2, this.opset))
      .finish();
  }
}
