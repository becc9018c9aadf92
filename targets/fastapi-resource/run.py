"""Starts the resource server (app.py) with uvicorn on 127.0.0.1:$PORT.

Started by ba-harness (src/resource_server.rs); runnable by hand too:
    JWKS_URL=http://127.0.0.1:3000/api/auth/jwks JWT_ISSUER=http://127.0.0.1:3000 PORT=8000 \\
        .venv/bin/python run.py

BA_HARNESS_PARENT_PID: exit when that process is gone (the harness was killed), so the server
never outlives the harness that started it.
"""

import os
import threading
import time

import uvicorn


def exit_with_parent(pid: int) -> None:
    while True:
        time.sleep(1)
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)


def main() -> None:
    port = int(os.environ["PORT"])
    parent = os.environ.get("BA_HARNESS_PARENT_PID")
    if parent and parent.isdigit():
        threading.Thread(target=exit_with_parent, args=(int(parent),), daemon=True).start()
    uvicorn.run("app:app", host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
