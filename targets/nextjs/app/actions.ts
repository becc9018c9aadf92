"use server";
// Server actions that call Better Auth through auth.api, as the guide's "server action" example
// does. Without nextCookies() the Set-Cookie headers these calls produce never reach the browser.
import { APIError } from "better-auth/api";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { auth } from "@/lib/auth";

function field(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
}

/** A plain server action: the form renders with a hidden `$ACTION_ID_<id>` field. */
export async function signUp(form: FormData) {
  try {
    await auth.api.signUpEmail({
      body: {
        name: field(form, "name"),
        email: field(form, "email"),
        password: field(form, "password"),
      },
      headers: await headers(),
    });
  } catch (error) {
    const message = error instanceof APIError ? error.message : "sign-up failed";
    redirect(`/sign-up?error=${encodeURIComponent(message)}`);
  }
  redirect("/dashboard");
}

export type SignInState = { error: string } | null;

/**
 * A `useActionState` action: the form renders with `$ACTION_REF_<n>`, `$ACTION_<n>:0` and
 * `$ACTION_KEY` fields instead. A failed sign-in re-renders the form with the error.
 */
export async function signIn(_previous: SignInState, form: FormData): Promise<SignInState> {
  try {
    await auth.api.signInEmail({
      body: { email: field(form, "email"), password: field(form, "password") },
      headers: await headers(),
    });
  } catch (error) {
    return { error: error instanceof APIError ? error.message : "sign-in failed" };
  }
  redirect("/dashboard");
}

export async function signOut() {
  await auth.api.signOut({ headers: await headers() });
  redirect("/sign-in");
}
