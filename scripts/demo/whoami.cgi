#!/usr/bin/python3
# Demo backend: shows what mod_auth_k8ssa handed to the application.
import json
import os

print("Content-Type: application/json")
print()
print(json.dumps({
    "env": {k: v for k, v in sorted(os.environ.items())
            if k == "REMOTE_USER" or k.startswith("K8S_")},
    "headers": {k: v for k, v in sorted(os.environ.items()) if k.startswith("HTTP_X_REMOTE")},
}, indent=2))
