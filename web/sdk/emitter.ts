/** A typed event emitter: a listener that throws is reported as `error`, never breaks delivery. */
export class Emitter<Events extends { error: unknown }> {
  readonly #listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(type: K, fn: (value: Events[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => this.off(type, fn);
  }

  off<K extends keyof Events>(type: K, fn: (value: Events[K]) => void): void {
    this.#listeners.get(type)?.delete(fn);
  }

  emit<K extends keyof Events>(type: K, value: Events[K]): void {
    for (const fn of [...(this.#listeners.get(type) ?? [])] as ((value: Events[K]) => void)[]) {
      try {
        fn(value);
      } catch (error) {
        if (type !== 'error') this.emit('error', error);
      }
    }
  }
}
