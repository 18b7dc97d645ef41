"""Token stampede: eight cold processes need a token at the same moment; WeChat is asked once."""

from __future__ import annotations

import json
import time

from wxhelpers import needs_redis, run_processes


@needs_redis
def test_eight_processes_fetch_one_token(fake, wx_app):
    # A little latency on the token endpoint keeps the first fetch in flight while the others arrive.
    fake.control(latency={"/cgi-bin/stable_token": 0.3})
    procs = run_processes(wx_app, "token", 8, start_at=time.time() + 4)
    tokens = [json.loads(p.communicate(timeout=90)[0].splitlines()[-1])["token"] for p in procs]
    assert len(set(tokens)) == 1
    assert fake.state()["token_fetches"] == 1
