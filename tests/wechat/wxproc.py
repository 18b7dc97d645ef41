"""A second (third, …) process running the app against the same database and store, for cross-process tests.

Usage: python wxproc.py '<json config>' <role>   (roles: token, send, webhook)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    config, role = json.loads(sys.argv[1]), sys.argv[2]
    from app import create_app

    app = create_app({"TESTING": True, "LINLI_NLP_PRELOAD": False, "WTF_CSRF_ENABLED": False, **config["app"]})
    with app.app_context():
        start_at = config.get("start_at")
        if start_at:  # line the processes up so they really run at the same moment
            time.sleep(max(0.0, start_at - time.time()))
        if role == "token":
            from app.wechat.client import get_client

            print(json.dumps({"token": get_client().access_token}), flush=True)
        elif role == "send":
            from app.services.outbox import send_pending

            print("ready", flush=True)
            report = send_pending(config.get("limit", 100))
            print(json.dumps({"sent": report.sent}), flush=True)
        elif role == "webhook":
            from app import handlers
            from app.extensions import kv
            from app.handlers.messages import TextReply

            def respond(inbound):
                # The side effect whose count the test checks; the pause widens the race window.
                kv().incr("test:side-effect", 600)
                time.sleep(0.3)
                return TextReply("已登记，编号 1")

            handlers.route = lambda turn: respond(turn.inbound)
            response = app.test_client().post(config["path"], data=config["body"].encode(),
                                              content_type="text/xml")
            print(json.dumps({"status": response.status_code, "body": response.get_data(as_text=True)}), flush=True)


if __name__ == "__main__":
    main()
