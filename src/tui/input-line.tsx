import { Box, Text, useInput } from "ink";
import { useMemo, useReducer } from "react";
import type { ChatSession } from "./chat-session.ts";
import { completeCommand, matchCommands } from "./commands.ts";
import { InputHistory } from "./input-history.ts";
import { LineEditor } from "./line-editor.ts";

export interface InputLineProps {
  session: ChatSession;
  onSubmit(value: string): void;
  /** A one-line notice under the input (e.g. "Press Ctrl+C again to quit"). */
  notice: string | null;
  /** Most command hints to list. */
  maxHints: number;
}

const DEFAULT_HINT = "/help commands · Ctrl+C stop · Ctrl+C twice quit · Esc clear · ↑↓ history";

/**
 * The prompt line: a line editor (←/→, Home/End, Backspace/Delete, Ctrl+A/E/U/K/W), Enter sends,
 * Esc clears, ↑/↓ recall earlier inputs, Tab completes a slash command; typing "/" lists the
 * matching commands with their current values. Ctrl+C is the app's.
 */
export function InputLine({ session, onSubmit, notice, maxHints }: InputLineProps) {
  const editor = useMemo(() => new LineEditor(), []);
  const history = useMemo(() => new InputHistory(), []);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const submit = (v: string) => {
    history.push(v);
    if (v.trim() !== "") onSubmit(v.trim());
  };
  useInput((input, key) => {
    if (key.ctrl && input === "c") return;
    if (key.return) {
      const v = editor.value;
      editor.set("");
      submit(v);
    } else if (key.escape) editor.set("");
    else if (key.upArrow || key.downArrow) {
      const v = key.upArrow ? history.prev(editor.value) : history.next();
      if (v !== null) editor.set(v);
    } else if (key.tab) editor.set(completeCommand(editor.value));
    else if (key.leftArrow) editor.left();
    else if (key.rightArrow) editor.right();
    else if (key.home || (key.ctrl && input === "a")) editor.home();
    else if (key.end || (key.ctrl && input === "e")) editor.end();
    else if (key.backspace || key.delete) editor.backspace();
    else if (key.ctrl && input === "d") editor.deleteForward();
    else if (key.ctrl && input === "u") editor.killToStart();
    else if (key.ctrl && input === "k") editor.killToEnd();
    else if (key.ctrl && input === "w") editor.killWord();
    else if (!key.ctrl && !key.meta && input) for (const line of editor.typeText(input)) submit(line);
    else return;
    rerender();
  });
  const { value, cursor } = editor;
  const matches = matchCommands(value);
  const hints = matches.slice(0, maxHints).map((c) => {
    const now = c.current ? ` (now ${c.current(session)})` : "";
    return `/${c.name}${c.args ? " " + c.args : ""}  ${c.help}${now}`;
  });
  if (matches.length > maxHints) hints.push(`… ${matches.length - maxHints} more (Tab completes)`);
  const placeholder = session.busy ? "Ctrl+C stops the reply" : "Message, or / for commands";
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text>
        <Text color={session.busy ? "gray" : "cyan"} bold>{"> "}</Text>
        {value === ""
          ? <><Text inverse> </Text><Text dimColor>{placeholder}</Text></>
          : <>{value.slice(0, cursor)}<Text inverse>{value[cursor] ?? " "}</Text>{value.slice(cursor + 1)}</>}
      </Text>
      {!value.startsWith("/") ? <Text dimColor>{notice ?? DEFAULT_HINT}</Text>
        : hints.length > 0 ? <Text dimColor>{hints.join("\n")}</Text>
        : <Text color="yellow">no such command; /help lists them</Text>}
    </Box>
  );
}
