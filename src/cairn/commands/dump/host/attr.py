"""`cairn dump host attr`: see cairn.commands._attrs."""

from cairn.attrs.scopes import Scope
from cairn.commands._attrs import make_dump

Command = make_dump(Scope.HOST)
