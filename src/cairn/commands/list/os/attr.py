"""`cairn list os attr`: see cairn.commands._attrs."""

from cairn.attrs.scopes import Scope
from cairn.commands._attrs import make_list

Command = make_list(Scope.OS)
