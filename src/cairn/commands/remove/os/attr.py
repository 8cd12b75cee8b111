"""`cairn remove os attr`: see cairn.commands._attrs."""

from cairn.attrs.scopes import Scope
from cairn.commands._attrs import make_remove

Command = make_remove(Scope.OS)
