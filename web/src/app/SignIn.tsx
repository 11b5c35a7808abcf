import { useState, useSyncExternalStore, type FormEvent } from 'react';
import { currentSignInPrompt, signIn, subscribeSignIn } from '../api/session';

/**
 * The sign-in form, over the page while requests wait for the Pave token: a server listening
 * on a network address refuses requests without it. On loopback it never shows, because the
 * server serves those requests.
 */
export function SignIn() {
  const prompt = useSyncExternalStore(subscribeSignIn, currentSignInPrompt);
  const [token, setToken] = useState('');
  if (!prompt) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) return;
    signIn(token.trim());
    setToken('');
  };
  return (
    <div className="signin-backdrop">
      <form className="signin card" role="dialog" aria-modal="true" aria-labelledby="signin-title" onSubmit={submit}>
        <h2 id="signin-title">Sign in to Pave</h2>
        <p>
          This Pave server needs its token. It is the content of <code>.pave/token</code> in the server's data directory (the <code>--data-dir</code> of <code>pave up</code>). The browser keeps
          it for the next visit.
        </p>
        {prompt.refusal && (
          <p className="signin-reason" role="alert">
            {prompt.refusal}
          </p>
        )}
        <label className="field">
          <span>Pave token</span>
          <input type="password" autoFocus autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" className="primary">
            Sign in
          </button>
        </div>
      </form>
    </div>
  );
}
