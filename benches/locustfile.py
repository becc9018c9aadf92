"""Locust's side of benches/load-vs-wrk.sh: the same checked get-session loop as ba-harness.

FastHttpUser (geventhttpclient, Locust's fastest client), no wait time, and the same check on
every answer: 200, JSON, a live session whose user.id and session.userId are the user's.
"""

import json

from locust import FastHttpUser, task

USER_ID = "canned-user"
COOKIE = "better-auth.session_token=canned-session-token.c2lnbmF0dXJl"


class CheckedGetSession(FastHttpUser):
    @task
    def get_session(self):
        with self.client.get(
            "/api/auth/get-session", headers={"cookie": COOKIE}, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"get-session answered {response.status_code}")
                return
            try:
                answer = json.loads(response.content)
            except ValueError:
                response.failure("not JSON")
                return
            if (
                not isinstance(answer, dict)
                or (answer.get("user") or {}).get("id") != USER_ID
                or (answer.get("session") or {}).get("userId") != USER_ID
            ):
                response.failure("not this user's session")
