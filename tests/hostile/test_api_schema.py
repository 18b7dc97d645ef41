"""schemathesis against /api/v1/openapi.json: every operation, generated requests, no 5xx, responses as documented.

The schema is loaded from the app over WSGI (no server). Operations are driven one by one through their Hypothesis
strategies rather than with `schema.parametrize()`: the lazy pytest loader of schemathesis 4.32 reads a node
attribute pytest 9.2 no longer has.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from app.extensions import db
from app.services.demo import seed_demo
from app.services.staff import find_staff, issue_api_token

RUN = settings(max_examples=12, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))


def test_every_operation_conforms_to_the_schema(app):
    with app.app_context():
        seed_demo()
        # A street admin's token: the widest scope, so responses carry real estates and rooms.
        bearer = {"Authorization": f"Bearer {issue_api_token(find_staff('jiedao'), name='schemathesis')}"}
        db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/estates", "/api/v1/estates/{estate_id}",
                                               "/api/v1/estates/{estate_id}/rooms"}
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @RUN
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                case.call_and_validate(headers=bearer)

            run()
