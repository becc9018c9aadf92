"use client";
import { useActionState } from "react";
import { signIn, type SignInState } from "../actions";

export function SignInForm() {
  const [state, formAction, pending] = useActionState<SignInState, FormData>(signIn, null);
  return (
    <form action={formAction}>
      {state?.error ? <p role="alert">{state.error}</p> : null}
      <label>Email <input name="email" type="email" required /></label>
      <label>Password <input name="password" type="password" required /></label>
      <button type="submit" disabled={pending}>Sign in</button>
    </form>
  );
}
