package io.streaminfer.model.chat;

/**
 * A chat template refused a conversation ({@code raise_exception}), failed on it, or could not be read. The message
 * is for the user who sent the request, e.g. "the chat template refused the conversation: Conversation roles must
 * alternate user/assistant/user/assistant/...".
 */
public class ChatTemplateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String raised;

    ChatTemplateException(String message, String raised, Throwable cause) {
        super(message, cause);
        this.raised = raised;
    }

    /** The template's own {@code raise_exception} message, or {@code null} when the template did not raise. */
    public String raisedMessage() {
        return raised;
    }
}
