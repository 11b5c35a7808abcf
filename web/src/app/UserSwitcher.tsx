import { useState, type FormEvent } from 'react';
import { humanRef, parseRef, stringifyRef } from '../api/catalog';
import { useIdentity } from './identity';

/** The header control that says who "me" is; accepts `name` or `user:namespace/name`. */
export function UserSwitcher() {
  const { userRef, setUser } = useIdentity();
  const [draft, setDraft] = useState(humanRef(userRef, 'user'));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (draft.trim()) setUser(stringifyRef(parseRef(draft.trim(), { kind: 'user' })));
  };
  return (
    <form className="user" onSubmit={submit}>
      <label htmlFor="current-user">Signed in as</label>
      <input id="current-user" value={draft} onChange={(e) => setDraft(e.target.value)} onBlur={submit} size={14} />
    </form>
  );
}
