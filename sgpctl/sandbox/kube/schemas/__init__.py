"""The OpenAPI definitions of the built-in kinds the sandbox serves (package data ``builtin.json.gz``).

``generate.py`` writes that file from the installed official Kubernetes client's models, the one
machine-readable copy of the API's schemas available offline; ``tests/sandbox/test_kube_schemas.py``
fails when the shipped file differs from what the generator makes. Run
``python -m sgpctl.sandbox.kube.schemas.generate`` after upgrading the client.
"""
