import { DiffusionError } from '@tfjs-diffusion/core';

/** The storage element types a state_dict may use, by PyTorch storage class. */
export const TORCH_STORAGE_DTYPES = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
} as const;

export type TorchStorageDtype = (typeof TORCH_STORAGE_DTYPES)[keyof typeof TORCH_STORAGE_DTYPES];

/** A reference to the raw storage `data/<key>` of the archive (a persistent id). */
export interface TorchStorageReference {
  readonly kind: 'storage';
  readonly key: string;
  readonly dtype: TorchStorageDtype;
  /** Elements in the storage. */
  readonly length: number;
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a strided view of a storage. */
export interface TorchTensorReference {
  readonly kind: 'tensor';
  readonly storage: TorchStorageReference;
  readonly storageOffset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

/** What the restricted unpickler builds. Dicts (plain and OrderedDict) become Maps, tuples and lists arrays. */
export type PickleValue =
  | null
  | boolean
  | number
  | string
  | readonly PickleValue[]
  | Map<PickleValue, PickleValue>
  | TorchStorageReference
  | TorchTensorReference
  | PickleGlobal;

/** A class or function named by the pickle (only the allowed ones are ever created). */
export interface PickleGlobal {
  readonly kind: 'global';
  readonly name: string;
}

const ORDERED_DICT = 'collections.OrderedDict';
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const ALLOWED_GLOBALS = new Set([
  ORDERED_DICT,
  REBUILD_TENSOR,
  REBUILD_PARAMETER,
  ...Object.keys(TORCH_STORAGE_DTYPES).map((name) => `torch.${name}`),
]);

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

function isGlobal(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && (value as PickleGlobal).kind === 'global' && (value as PickleGlobal).name === name;
}

function refuse(message: string): never {
  throw new DiffusionError('invalid-checkpoint', `pickle: ${message}`);
}

function integerList(value: PickleValue, what: string): number[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'number' && Number.isSafeInteger(item) && item >= 0)) {
    refuse(`${what} must be a tuple of non-negative integers`);
  }
  return [...(value as number[])];
}

/**
 * A restricted unpickler (Python pickle protocols 2 to 5) for PyTorch state_dicts (`data.pkl` of a
 * torch >= 1.6 zip file): it knows dicts, OrderedDicts, lists, tuples, strings, numbers,
 * booleans, None, storage persistent ids and `torch._utils._rebuild_tensor_v2` /
 * `_rebuild_parameter`. It never calls anything: any other global, and any opcode outside that
 * set, is refused by name, so a malicious file cannot run code.
 */
export function unpickleTorch(bytes: Uint8Array): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let position = 0;

  const need = (count: number): void => {
    if (position + count > bytes.length) refuse(`truncated at byte ${position} (needs ${count} more)`);
  };
  const readBytes = (count: number): Uint8Array => {
    need(count);
    const slice = bytes.subarray(position, position + count);
    position += count;
    return slice;
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, position);
    if (end < 0) refuse('unterminated text line');
    const text = decoder.decode(bytes.subarray(position, end));
    position = end + 1;
    return text;
  };
  const pop = (): PickleValue => {
    const value = stack.pop();
    if (value === undefined || value === MARK) refuse('stack underflow');
    return value as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const items: PickleValue[] = [];
    for (;;) {
      const value = stack.pop();
      if (value === undefined) refuse('MARK not found');
      if (value === MARK) return items.reverse();
      items.push(value as PickleValue);
    }
  };
  const top = (): PickleValue => {
    const value = stack[stack.length - 1];
    if (value === undefined || value === MARK) refuse('stack underflow');
    return value as PickleValue;
  };
  const asMap = (value: PickleValue, opcode: string): Map<PickleValue, PickleValue> => {
    if (!(value instanceof Map)) refuse(`${opcode} on something that is not a dict`);
    return value as Map<PickleValue, PickleValue>;
  };
  const asList = (value: PickleValue, opcode: string): PickleValue[] => {
    if (!Array.isArray(value)) refuse(`${opcode} on something that is not a list`);
    return value as PickleValue[];
  };
  const global = (module: string, name: string): PickleGlobal => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) {
      refuse(`refusing global ${full}: a state_dict needs only OrderedDict, torch storages and _rebuild_tensor_v2 (nothing is executed)`);
    }
    return { kind: 'global', name: full };
  };
  const persistentLoad = (id: PickleValue): TorchStorageReference => {
    // ('storage', storage_type, key, location, numel)
    if (!Array.isArray(id) || id.length !== 5 || id[0] !== 'storage') refuse('unsupported persistent id (expected a storage tuple)');
    const [, type, key, , length] = id as PickleValue[];
    const typeName = (type as PickleGlobal | undefined)?.name?.replace(/^torch\./, '') ?? '';
    const dtype = (TORCH_STORAGE_DTYPES as Record<string, TorchStorageDtype>)[typeName];
    if (dtype === undefined) refuse(`unsupported storage type ${JSON.stringify(typeName)}`);
    if (typeof key !== 'string' || !/^[0-9A-Za-z_]+$/.test(key)) refuse(`bad storage key ${JSON.stringify(key)}`);
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) refuse(`bad storage length for key ${key}`);
    return { kind: 'storage', key: key as string, dtype: dtype as TorchStorageDtype, length: length as number };
  };
  const reduce = (callable: PickleValue, args: PickleValue): PickleValue => {
    if (!Array.isArray(args)) refuse('REDUCE arguments must be a tuple');
    const list = args as PickleValue[];
    if (isGlobal(callable, ORDERED_DICT)) {
      if (list.length !== 0) refuse('OrderedDict with arguments is not supported');
      return new Map();
    }
    if (isGlobal(callable, REBUILD_TENSOR)) {
      // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      const [storage, storageOffset, size, stride] = list;
      if (typeof storage !== 'object' || storage === null || (storage as TorchStorageReference).kind !== 'storage') {
        refuse('_rebuild_tensor_v2 needs a storage');
      }
      if (typeof storageOffset !== 'number' || !Number.isSafeInteger(storageOffset) || storageOffset < 0) {
        refuse('_rebuild_tensor_v2: bad storage offset');
      }
      const shape = integerList(size as PickleValue, 'tensor size');
      const strides = integerList(stride as PickleValue, 'tensor stride');
      if (shape.length !== strides.length) refuse('tensor size and stride differ in length');
      return { kind: 'tensor', storage: storage as TorchStorageReference, storageOffset: storageOffset as number, shape, stride: strides };
    }
    if (isGlobal(callable, REBUILD_PARAMETER)) {
      const [data] = list;
      if (typeof data !== 'object' || data === null || (data as TorchTensorReference).kind !== 'tensor') refuse('_rebuild_parameter needs a tensor');
      return data as TorchTensorReference;
    }
    return refuse(`cannot call ${(callable as PickleGlobal | null)?.name ?? typeof callable}`);
  };
  const integer = (value: number): number => {
    if (!Number.isSafeInteger(value)) refuse(`integer ${value} is out of range`);
    return value;
  };

  for (;;) {
    need(1);
    const opcode = bytes[position] as number;
    position += 1;
    switch (opcode) {
      case 0x80: // PROTO
        readBytes(1);
        break;
      case 0x95: // FRAME
        readBytes(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) refuse(`STOP with ${stack.length} items on the stack`);
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(position, true));
        position += 4;
        break;
      case 0x4b: // BININT1
        stack.push(readBytes(1)[0] as number);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(view.getUint16(position, true));
        position += 2;
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement of n bytes
        const length = readBytes(1)[0] as number;
        const digits = readBytes(length);
        let value = 0n;
        for (let index = length - 1; index >= 0; index -= 1) value = (value << 8n) | BigInt(digits[index] as number);
        if (length > 0 && ((digits[length - 1] as number) & 0x80) !== 0) value -= 1n << BigInt(8 * length);
        stack.push(integer(Number(value)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(position, false));
        position += 8;
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const length = view.getUint32(position, true);
        position += 4;
        stack.push(decoder.decode(readBytes(length)));
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        const length = readBytes(1)[0] as number;
        stack.push(decoder.decode(readBytes(length)));
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const length = integer(view.getUint32(position, true) + view.getUint32(position + 4, true) * 2 ** 32);
        position += 8;
        stack.push(decoder.decode(readBytes(length)));
        break;
      }
      case 0x63: {
        // GLOBAL module\nname\n
        const module = readLine();
        const name = readLine();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') refuse('STACK_GLOBAL needs two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x71: // BINPUT
        memo.set(readBytes(1)[0] as number, top());
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(view.getUint32(position, true), top());
        position += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        let key: number;
        if (opcode === 0x68) key = readBytes(1)[0] as number;
        else {
          need(4);
          key = view.getUint32(position, true);
          position += 4;
        }
        if (!memo.has(key)) refuse(`memo ${key} is not set`);
        stack.push(memo.get(key) as PickleValue);
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const second = pop();
        stack.push([pop(), second]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const third = pop();
        const second = pop();
        stack.push([pop(), second, third]);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        asMap(top(), 'SETITEM').set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) refuse('SETITEMS with an odd number of items');
        const map = asMap(top(), 'SETITEMS');
        for (let index = 0; index < items.length; index += 2) map.set(items[index] as PickleValue, items[index + 1] as PickleValue);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        asList(top(), 'APPEND').push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        asList(top(), 'APPENDS').push(...items);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop()));
        break;
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(reduce(callable, args));
        break;
      }
      case 0x62: {
        // BUILD: only an OrderedDict's instance dict (state_dict._metadata), which is dropped
        const state = pop();
        const target = top();
        if (!(target instanceof Map) || !(state instanceof Map || state === null)) {
          refuse('BUILD is only allowed on an OrderedDict (its _metadata)');
        }
        break;
      }
      default:
        refuse(`unsupported opcode 0x${opcode.toString(16).padStart(2, '0')} at byte ${position - 1}`);
    }
  }
}
