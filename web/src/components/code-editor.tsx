// CodeMirror 6 in a bordered box. Colours come from CSS variables (index.css), so one highlight
// style serves both themes and a theme switch needs no reconfiguration.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { javascript } from "@codemirror/lang-javascript";
import { json } from "@codemirror/lang-json";
import {
  bracketMatching,
  foldGutter,
  HighlightStyle,
  indentOnInput,
  syntaxHighlighting,
} from "@codemirror/language";
import { EditorState, type Extension, Prec } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  placeholder as cmPlaceholder,
} from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import { useEffect, useRef } from "react";
import { cn } from "@/lib/utils";

const highlight = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword], color: "var(--syn-keyword)" },
  { tag: [t.string, t.special(t.string), t.regexp], color: "var(--syn-string)" },
  { tag: [t.number], color: "var(--syn-number)" },
  { tag: [t.bool, t.null, t.atom], color: "var(--syn-bool)" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "var(--syn-comment)", fontStyle: "italic" },
  { tag: [t.function(t.variableName), t.function(t.propertyName)], color: "var(--syn-fn)" },
  { tag: [t.propertyName, t.definition(t.propertyName)], color: "var(--syn-prop)" },
  { tag: [t.typeName, t.className], color: "var(--syn-fn)" },
]);

export interface CodeEditorProps {
  value: string;
  onChange?: (v: string) => void;
  language?: "javascript" | "json";
  readOnly?: boolean;
  /** Ctrl/Cmd+Enter */
  onSubmit?: () => void;
  placeholder?: string;
  className?: string;
  minHeight?: string;
  maxHeight?: string;
  ariaLabel?: string;
}

export function CodeEditor({
  value,
  onChange,
  language = "javascript",
  readOnly = false,
  onSubmit,
  placeholder,
  className,
  minHeight = "6rem",
  maxHeight = "32rem",
  ariaLabel,
}: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // Latest callbacks without rebuilding the editor on every render.
  const onChangeRef = useRef(onChange);
  const onSubmitRef = useRef(onSubmit);
  onChangeRef.current = onChange;
  onSubmitRef.current = onSubmit;

  useEffect(() => {
    if (!host.current) return;
    const exts: Extension[] = [
      lineNumbers(),
      foldGutter(),
      drawSelection(),
      bracketMatching(),
      syntaxHighlighting(highlight),
      language === "json" ? json() : javascript(),
      EditorView.theme({
        "&": { minHeight, maxHeight },
        ".cm-scroller": { overflow: "auto", minHeight },
      }),
      EditorView.contentAttributes.of({ "aria-label": ariaLabel ?? `${language} code` }),
    ];
    if (readOnly) {
      exts.push(EditorState.readOnly.of(true), EditorView.editable.of(false));
    } else {
      exts.push(
        history(),
        indentOnInput(),
        highlightActiveLine(),
        highlightActiveLineGutter(),
        Prec.highest(
          keymap.of([
            {
              key: "Mod-Enter",
              run: () => {
                onSubmitRef.current?.();
                return true;
              },
            },
          ]),
        ),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChangeRef.current?.(u.state.doc.toString());
        }),
      );
      if (placeholder) exts.push(cmPlaceholder(placeholder));
    }
    const v = new EditorView({ parent: host.current, state: EditorState.create({ doc: value, extensions: exts }) });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // value is synced below; rebuilding on each keystroke would lose the cursor
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [language, readOnly, minHeight, maxHeight, placeholder, ariaLabel]);

  // Outside changes (a template picked, a job reloaded) replace the document.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [value]);

  return (
    <div
      ref={host}
      data-testid={readOnly ? "code-view" : "code-editor"}
      className={cn(
        "overflow-hidden rounded-lg border bg-muted/30 focus-within:ring-2 focus-within:ring-ring/40",
        readOnly && "focus-within:ring-0",
        className,
      )}
    />
  );
}
