/**
 * The Pave token this browser sends, and the sign-in that asks for it. A server on loopback
 * serves requests without a token, so none of this shows there. A server on a network address
 * answers 401: the request that got it waits here until the person enters the token in the
 * sign-in form, then goes again with it (see `send` in http.ts).
 */
const KEY = 'pave.token';

/** What the sign-in form shows besides how to find the token. */
export interface SignInPrompt {
  /** The server's reason for refusing the token tried last; absent when none was tried. */
  refusal?: string;
}

let prompt: SignInPrompt | undefined;
let waiting: (() => void)[] = [];
const listeners = new Set<() => void>();

export function storedToken(): string | undefined {
  return localStorage.getItem(KEY) ?? undefined;
}

/** Drops a token the server refused, unless another has replaced it meanwhile. */
export function forgetToken(token: string): void {
  if (storedToken() === token) localStorage.removeItem(KEY);
}

/** Keeps the token the person entered and lets every waiting request go again with it. */
export function signIn(token: string): void {
  localStorage.setItem(KEY, token);
  prompt = undefined;
  const resume = waiting;
  waiting = [];
  notify();
  for (const go of resume) go();
}

/** Shows the sign-in form and resolves once a token is entered (or rejects when `signal` aborts). */
export function waitForSignIn(refusal: string | undefined, signal?: AbortSignal | null): Promise<void> {
  // a request refused without a token does not hide why another's token was refused
  if (!prompt?.refusal || refusal) prompt = { refusal };
  notify();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    waiting.push(resolve);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** The sign-in form's state, for React's useSyncExternalStore. */
export function currentSignInPrompt(): SignInPrompt | undefined {
  return prompt;
}

export function subscribeSignIn(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const l of listeners) l();
}
