import { useEffect, useRef, useState } from "react";

/** `value`, once it has stayed the same for `ms` (a live preview that waits for typing to pause). */
export function useDebounced<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/**
 * A text box bound to a URL parameter: what is typed is written (by `write`) once typing pauses, and a
 * change of the parameter from elsewhere (a link, Back) replaces what the box shows.
 */
export function useDebouncedParam(value: string | undefined, write: (v: string | undefined) => void, ms = 300) {
  const [text, setText] = useState(value ?? "");
  // The latest writer, so a page re-rendering (a live refresh) does not restart the pause.
  const writeRef = useRef(write);
  writeRef.current = write;
  useEffect(() => setText(value ?? ""), [value]);
  useEffect(() => {
    const v = text.trim() || undefined;
    if (v === value) return;
    const t = setTimeout(() => writeRef.current(v), ms);
    return () => clearTimeout(t);
  }, [text, value, ms]);
  return [text, setText] as const;
}
