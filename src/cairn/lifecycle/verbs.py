"""pause, resume, save and restore: one libvirt verb per VM, no plugins.

Saving never disallocates: a saved VM still holds what it was given and comes
back from its image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cairn.db.models import VM
from cairn.errors import CairnError
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.guest import Guest
from cairn.inventory.containers import container_uris
from cairn.lifecycle.runner import Outcome, Progress, StepError, no_progress, run_grouped
from cairn.vms.disks import check_path
from cairn.vms.reach import reach


@dataclass(frozen=True)
class Job:
    name: str
    container: str
    uri: str
    file: str | None


def _pause(guest: Guest, _file: str | None) -> str:
    return "paused" if guest.pause() else "already paused"


def _resume(guest: Guest, _file: str | None) -> str:
    return "resumed" if guest.resume() else "already running"


def _save(guest: Guest, file: str | None) -> str:
    if file is None:
        return "saved" if guest.managed_save() else "already saved"
    guest.save(file)
    return f"saved to {file}"


VERBS: dict[str, Callable[[Guest, str | None], str]] = {
    "pause": _pause,
    "resume": _resume,
    "save": _save,
}


def run(
    session: Session,
    verb: str,
    vms: Sequence[VM],
    conns: Connections,
    *,
    file: str | None = None,
    parallel: int | None = None,
    progress: Progress = no_progress,
) -> list[Outcome]:
    if file is not None:
        reach().file(check_path(file, "file"), "file")
        if len(vms) > 1:
            raise CairnError(f"file= names one image; {verb} one VM at a time with it")
    uris = container_uris(session, [vm.container for vm in vms])
    jobs = [Job(vm.host.name, vm.container.name, uris[vm.container_id], file) for vm in vms]

    def work(job: Job) -> str:
        conn = conns.get(job.uri)
        try:
            if verb == "restore":
                return _restore(conn, job)
            return VERBS[verb](Guest.lookup(conn, job.name), job.file)
        except CairnError as exc:
            raise StepError(verb, exc) from exc

    done = run_grouped(
        jobs, lambda j: j.uri, work, parallel=parallel, progress=progress, label=lambda j: j.name
    )
    return [
        Outcome(d.job.name, d.job.container, "failed", str(d.error), True)
        if d.error
        else Outcome(d.job.name, d.job.container, d.result or verb)
        for d in done
    ]


def _restore(conn: object, job: Job) -> str:
    if job.file is not None:
        Guest.restore(conn, job.file)
        return f"restored from {job.file}"
    guest = Guest.lookup(conn, job.name)
    if not guest.has_managed_save():
        raise CairnError(f"{job.name} has no saved image; start it with 'cairn start host vm'")
    guest.launch()
    return "restored"
