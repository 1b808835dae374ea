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

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
import time
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
    d.mkdir(parents=True, exist_ok=True)
    tmp_cert, tmp_key = d / (CERT_FILE + ".tmp"), d / (KEY_FILE + ".tmp")
    if not _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(tmp_key), "-out", str(tmp_cert), "-days", "3650", "-subj", "/CN=sgpctl-sandbox",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-addext", "extendedKeyUsage=serverAuth"):
        return None
    os.chmod(tmp_key, 0o600)
    os.replace(tmp_key, key)
    os.replace(tmp_cert, cert)
    return cert, key


def _openssl(*args: str) -> bool:
    openssl = shutil.which("openssl")
    if openssl is None:
        return False
    try:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=30,
                       env={"PATH": os.environ.get("PATH", "")})
    except (OSError, subprocess.SubprocessError):
        return False
    return True


# --- client certificates, as TKE's DescribeClusterKubeconfig hands out -----------------------------
#
# TKE gives every (sub-)account its own x509 client certificate for a cluster, issued by that
# cluster's self-signed CA (CN "kubernetes"), valid 20 years, subject O=tke:users,
# CN=<uin>-<unix time>. The sandbox keeps one such CA per cluster under DIR/clusters/<cluster id>/
# and its kube-apiserver accepts the certificates that CA issued.

CLIENT_CERT_DAYS = 7300
CLIENT_ORGANIZATION = "tke:users"


def cluster_ca(directory: str | os.PathLike, cluster_id: str) -> tuple[Path, Path] | None:
    """(ca.crt, ca.key) of ``cluster_id``'s client CA in ``directory``, made once; None without openssl."""
    d = Path(directory) / "clusters" / cluster_id
    cert, key = d / "ca.crt", d / "ca.key"
    if cert.is_file() and key.is_file():
        return cert, key
    d.mkdir(parents=True, exist_ok=True)
    tmp_cert, tmp_key = d / "ca.crt.tmp", d / "ca.key.tmp"
    if not _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(tmp_key), "-out", str(tmp_cert), "-days", str(CLIENT_CERT_DAYS),
                    "-subj", "/CN=kubernetes", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"):
        return None
    os.chmod(tmp_key, 0o600)
    os.replace(tmp_key, key)
    os.replace(tmp_cert, cert)
    return cert, key


def client_certificate(directory: str | os.PathLike, cluster_id: str, uin: str,
                       now: float | None = None) -> tuple[bytes, bytes] | None:
    """(certificate PEM, key PEM) of account ``uin`` for ``cluster_id``, issued on the first call
    and the same afterwards (TKE's behaviour); None without openssl."""
    if not uin.isdigit():
        raise ValueError(f"an account uin is digits, not {uin!r}")
    ca = cluster_ca(directory, cluster_id)
    if ca is None:
        return None
    d = ca[0].parent
    cert, key = d / f"{uin}.crt", d / f"{uin}.key"
    if not (cert.is_file() and key.is_file()):
        csr, tmp_cert, tmp_key = d / f"{uin}.csr", d / f"{uin}.crt.tmp", d / f"{uin}.key.tmp"
        ext = d / f"{uin}.ext"
        ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=clientAuth\n")
        subject = f"/O={CLIENT_ORGANIZATION}/CN={uin}-{int(now if now is not None else time.time())}"
        ok = (_openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", str(tmp_key), "-out", str(csr), "-subj", subject)
              and _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
                           "-CAcreateserial", "-out", str(tmp_cert), "-days", str(CLIENT_CERT_DAYS),
                           "-extfile", str(ext)))
        for leftover in (csr, ext):
            leftover.unlink(missing_ok=True)
        if not ok:
            return None
        os.chmod(tmp_key, 0o600)
        os.replace(tmp_key, key)
        os.replace(tmp_cert, cert)
    return cert.read_bytes(), key.read_bytes()


_process_dir: str | None = None
_process_dir_lock = threading.Lock()


def process_dir() -> str:
    """One directory per process for certificates of sandboxes without a state dir: making
    them costs openssl time, and their cluster ids repeat (they come from the seed)."""
    global _process_dir
    with _process_dir_lock:
        if _process_dir is None:
            _process_dir = tempfile.mkdtemp(prefix="sgpctl-sandbox-tls-")
            atexit.register(shutil.rmtree, _process_dir, True)
        return _process_dir
