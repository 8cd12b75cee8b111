"""`cairn set appliance attr`: see cairn.commands._attrs."""

from cairn.attrs.scopes import Scope
from cairn.commands._attrs import make_put

Command = make_put(Scope.APPLIANCE, replace=True)
