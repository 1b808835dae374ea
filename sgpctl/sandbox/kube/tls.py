"""A self-signed serving certificate for the sandbox API server.

Why TLS at all on loopback: kubectl (client-go's clientcmd) reads a kubeconfig user's credentials
only when the server URL is https. Over plain http it sends no bearer token, and a server that checks
tokens answers every kubectl request with 401. The certificate is its own CA (CA:TRUE, SAN
127.0.0.1 and localhost) and goes into the kubeconfig as ``certificate-authority-data``, so both
kubectl and the Python client verify it normally.

The standard library cannot make certificates, so this runs the ``openssl`` command (present on
virtually every Linux and macOS machine). Without it, ``ensure_certificate`` returns None and the
server falls back to http (kubectl then needs ``token=None``: no auth).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CERT_FILE = "kube-apiserver.crt"
KEY_FILE = "kube-apiserver.key"


def ensure_certificate(directory: str | os.PathLike) -> tuple[Path, Path] | None:
    """(cert, key) in ``directory``, made once and reused (a restarted sandbox keeps its kubeconfig
    valid). None when ``openssl`` is not available or fails."""
    d = Path(directory)
    cert, key = d / CERT_FILE, d / KEY_FILE
    if cert.is_file() and key.is_file():
        return cert, key
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    d.mkdir(parents=True, exist_ok=True)
    tmp_cert, tmp_key = d / (CERT_FILE + ".tmp"), d / (KEY_FILE + ".tmp")
    cmd = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", str(tmp_key), "-out", str(tmp_cert), "-days", "3650", "-subj", "/CN=sgpctl-sandbox",
           "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-addext", "extendedKeyUsage=serverAuth"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=30, env={"PATH": os.environ.get("PATH", "")})
    except (OSError, subprocess.SubprocessError):
        return None
    os.chmod(tmp_key, 0o600)
    os.replace(tmp_key, key)
    os.replace(tmp_cert, cert)
    return cert, key
