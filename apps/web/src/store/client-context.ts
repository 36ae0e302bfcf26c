import type { ChatClient } from "@parley/client";
import { createContext, useContext } from "react";

/** The signed-in session's ChatClient; provided once by the chat shell. */
export const ChatClientContext = createContext<ChatClient | null>(null);

/** The ChatClient of the signed-in session. Components call its methods; they never see the socket. */
export function useChatClient(): ChatClient {
  const client = useContext(ChatClientContext);
  if (!client) throw new Error("useChatClient must be used inside <ChatClientContext>");
  return client;
}
