"""`cairn list appliance attr`: see cairn.commands._attrs."""

from cairn.attrs.scopes import Scope
from cairn.commands._attrs import make_list

Command = make_list(Scope.APPLIANCE)
