"""POST /ebd: the GY/T 384 platform interface (multipart field ``file`` holding EBDT_*.tar)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.api.problems import from_intake_error, problem
from dispatcher.errors import IntakeError
from dispatcher.services.ebd_intake import receive_package

router = APIRouter(tags=["ebd"])

TAR = "application/x-tar"


@router.post(
    "/ebd",
    summary="Receive a GY/T 384 EBD package; answers with a signed EBDResponse package",
    response_class=Response,
    responses={200: {"content": {TAR: {}}}},
)
async def receive(request: Request) -> Response:
    platform = request.app.state.platform
    limit = platform.settings.max_package_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return problem("payload-too-large", 413, f"the package exceeds {limit} bytes")
    form = await request.form(max_files=1, max_fields=4, max_part_size=limit)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return problem("invalid-ebd", 400, "send the package as multipart/form-data field 'file'")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        return problem("payload-too-large", 413, f"the package exceeds {limit} bytes")
    try:
        answer = await receive_package(
            data=data,
            ctx=platform.intake,
            signer=platform.signer,
            own_url=str(request.base_url).rstrip("/") + "/ebd",
            peers=platform.hierarchy,
        )
    except IntakeError as exc:
        return from_intake_error(exc, instance="/ebd")
    if answer.alert_id:
        platform.fanout.poke()
    name = "EBDT_response.tar"
    return Response(
        answer.package,
        media_type=TAR,
        headers={
            "EBC-Result-Code": str(answer.result_code),
            "Content-Disposition": f'attachment; filename="{name}"',
            **({"Location": f"/api/v1/alerts/{answer.alert_id}"} if answer.alert_id else {}),
        },
    )
