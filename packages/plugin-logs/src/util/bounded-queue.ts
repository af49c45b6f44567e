/**
 * A FIFO bounded by item count and by bytes: `push` refuses (returns false) when either bound would be exceeded, so
 * the caller counts a drop (UDP) or stops reading (TCP, files). Ring buffer: O(1) push/shift, no array shifting.
 */
export class BoundedQueue<T> {
  #items: Array<T | undefined>;
  #sizes: Float64Array;
  #head = 0;
  #length = 0;
  #bytes = 0;

  constructor(
    readonly maxItems: number,
    readonly maxBytes: number,
  ) {
    this.#items = new Array(maxItems);
    this.#sizes = new Float64Array(maxItems);
  }

  get length(): number {
    return this.#length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Fill ratio, the larger of the two bounds (0..1). */
  get fill(): number {
    return Math.max(this.#length / this.maxItems, this.#bytes / this.maxBytes);
  }

  push(item: T, bytes: number): boolean {
    if (this.#length >= this.maxItems || (this.#bytes + bytes > this.maxBytes && this.#length > 0)) return false;
    const at = (this.#head + this.#length) % this.maxItems;
    this.#items[at] = item;
    this.#sizes[at] = bytes;
    this.#length++;
    this.#bytes += bytes;
    return true;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#bytes -= this.#sizes[this.#head] as number;
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.maxItems;
    this.#length--;
    return item;
  }
}
