import { Box, Text } from "ink";
import type { Entry } from "./chat-session.ts";
import type { FeedItem } from "./static-feed.ts";

/** A finished transcript entry (printed once, above the live area, through <Static>). */
export function EntryView({ entry, model }: { entry: Entry; model: string }) {
  switch (entry.kind) {
    case "user":
      return (
        <Box marginTop={1}>
          <Text><Text color="cyan" bold>you › </Text>{entry.text}</Text>
        </Box>
      );
    case "assistant":
      return (
        <Box flexDirection="column">
          <Text><Text color="green" bold>{model} › </Text>{entry.text}</Text>
          {entry.meta ? <Text dimColor>  {entry.meta}</Text> : null}
        </Box>
      );
    case "error":
      return <Text color="red">error: {entry.text}</Text>;
    default:
      return <Text dimColor>{entry.text}</Text>;
  }
}

/** A printed line of a streamed reply, or its footer. */
export function FeedItemView({ item, model }: { item: FeedItem; model: string }) {
  if (item.type === "entry") return <EntryView entry={item.entry} model={model} />;
  if (item.type === "meta") return <Text dimColor>  {item.text}</Text>;
  return <Text>{item.prefix ? <Text color="green" bold>{item.prefix}</Text> : null}{item.text}</Text>;
}

/** The line of the reply being written (the lines before it are already printed through <Static>). */
export function LiveLine({ text, prefix }: { text: string; prefix: string | null }) {
  return (
    <Text wrap="truncate-start">
      {prefix ? <Text color="green" bold>{prefix}</Text> : null}
      {text}
      <Text dimColor>▍</Text>
    </Text>
  );
}
