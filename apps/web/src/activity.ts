/** What the page is busy with: one long task at a time shares the backend. */
export type ActivityKind = 'idle' | 'loading' | 'sampling' | 'training';

/** A tiny observable of the current activity, so each panel can enable its buttons. */
export interface Activity {
  readonly current: ActivityKind;
  /** Switches to `kind`; listeners run at once. */
  set(kind: ActivityKind): void;
  onChange(listener: (kind: ActivityKind) => void): void;
}

export function createActivity(initial: ActivityKind): Activity {
  let current = initial;
  const listeners: ((kind: ActivityKind) => void)[] = [];
  return {
    get current() {
      return current;
    },
    set(kind) {
      current = kind;
      for (const listener of listeners) listener(kind);
    },
    onChange(listener) {
      listeners.push(listener);
      listener(current);
    },
  };
}
