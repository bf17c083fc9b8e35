"""The running twin service, as the release process talks to it: `/info` (which version serves),
`/admin/reload` (switch without downtime) and a short `/generate` probe of the new model."""

from __future__ import annotations

import os
from typing import Any

import requests


class ServiceError(RuntimeError):
    """The service refused or failed a call; `status` is the HTTP status (0: not reachable)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class TwinService:
    def __init__(self, url: str, api_key_env: str = "LLM_TWIN_API_KEY") -> None:
        self.url = url.rstrip("/")
        self.api_key_env = api_key_env

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.api_key_env)  # read per call: a rotated key needs no restart
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _post(self, path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            response = requests.post(f"{self.url}{path}", json=body, headers=self._headers(), timeout=timeout)
        except requests.RequestException as exc:
            raise ServiceError(f"the twin service at {self.url} is not reachable: {exc}") from exc
        if response.status_code != 200:
            try:
                detail = response.json().get("error") or response.text
            except ValueError:
                detail = response.text
            raise ServiceError(f"{path} answered {response.status_code}: {str(detail)[:500]}", response.status_code)
        return response.json()

    def served_version(self, timeout: float = 10) -> str | None:
        """The version `/info` reports; None when the service is not reachable."""
        try:
            return str(self._post("/info", {}, timeout)["model_version"])
        except ServiceError as exc:
            if exc.status in (401, 403):
                raise ServiceError(f"{exc}: set {self.api_key_env} to the service's API key", exc.status) from exc
            return None

    def reload(self, gguf_model: str, index_model: str, timeout: float) -> dict[str, Any]:
        """`POST /admin/reload`: the SwapReport (previous_version, model_version, load_s, in_flight_on_previous)."""
        return self._post("/admin/reload", {"gguf_model": gguf_model, "index_model": index_model}, timeout)

    def probe(self, timeout: float = 120) -> str:
        """One short generation on the model now served; returns the version that answered."""
        body = {"instruction": "Write one sentence about your work.", "max_new_tokens": 2, "temperature": 0.0}
        return str(self._post("/generate", body, timeout)["model_version"])
