"""``/dev/mail``: the mails the local sink caught, so a developer sees what citizens get."""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Controller, MediaType, Response, get
from litestar.params import FromPath
from litestar.response import Template

from booking.api.dependencies import SettingsDep
from booking.errors import NotFound
from booking.mailsink import list_mail

_SAFE_NAME = re.compile(r"^[0-9T]+-[0-9a-f]{8}\.eml$")


class DevMailController(Controller):
    path = "/dev/mail"
    include_in_schema = False

    @get(sync_to_thread=True)
    def index(self, settings: SettingsDep) -> Template:
        mails = list_mail(Path(settings.dev_mail_dir))
        return Template(template_name="dev_mail.html", context={"mails": mails})

    @get("/{name:str}", sync_to_thread=True)
    def raw(self, settings: SettingsDep, name: FromPath[str]) -> Response[bytes]:
        path = Path(settings.dev_mail_dir) / name
        if not _SAFE_NAME.match(name) or not path.is_file():
            raise NotFound("No such mail. / Keine solche E-Mail.")
        return Response(path.read_bytes(), media_type=MediaType.TEXT)
