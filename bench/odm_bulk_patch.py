"""The alternative scimsh is measured against: ODM's generated Python client doing a bulk patch sequentially.

    bench/.venv/bin/python bench/odm_bulk_patch.py HOST TOKEN LIMIT LABEL

Lists users page by page (100 per page, as scimsh does by default) until LIMIT users are collected, then sends
one PATCH per user (a path-less PatchOp replacing displayName), one after the other, the way an admin's loop
over `odm_api.UsersApi` does. Prints one JSON line with the timings (seconds): import, list, patch, total.
"""

import json
import sys
import time

t_start = time.perf_counter()
import odm_api  # noqa: E402  (the import is part of what is measured)
from odm_api.models.group_patch_operations_inner import GroupPatchOperationsInner  # noqa: E402
from odm_api.models.user_patch import UserPatch  # noqa: E402

t_imported = time.perf_counter()


def main() -> None:
    host, token, limit, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    config = odm_api.Configuration(host=host)
    # The "Access-token" scheme is the Authorization header; the prefix makes it "Bearer TOKEN".
    config.api_key["Access-token"] = token
    config.api_key_prefix["Access-token"] = "Bearer"
    with odm_api.ApiClient(config) as client:
        users = odm_api.UsersApi(client)
        ids = []
        start = 1
        pages = 0
        while len(ids) < limit and pages < 100_000:
            page = users.find_users(start_index=start, count=100)
            pages += 1
            resources = page.resources or []
            if not resources:
                break
            ids.extend(u.id for u in resources)
            start += len(resources)
            if page.total_results is not None and start > page.total_results:
                break
        ids = ids[:limit]
        t_listed = time.perf_counter()
        for i, user_id in enumerate(ids):
            body = UserPatch(
                schemas=["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                operations=[GroupPatchOperationsInner(op="replace", value={"displayName": f"odm {label} {i}"})],
            )
            users.patch_user(user_id, body)
        t_done = time.perf_counter()
    print(
        json.dumps(
            {
                "users": len(ids),
                "pages": pages,
                "import": t_imported - t_start,
                "list": t_listed - t_imported,
                "patch": t_done - t_listed,
                "total": t_done - t_start,
            }
        )
    )


if __name__ == "__main__":
    main()
