"""The unit's containers (``/manager/containers``; issue 12 item 5, docs/tare.md).

A unit manager keeps the weights of the sacks, baskets and buckets the counter weighs waste
in: add one (name, weight in grams or kg), change its name or weight, take it out of use or
back. Scoped to the manager's own unit: another unit's container answers 404. Every change
goes through ``services.containers`` and is audited (``container.create``/``container.update``).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, StringField
from wtforms.validators import Length

from ..auth.permissions import counter_unit, require
from ..inputs import BaseForm
from ..services.containers import add_container, container_in_unit, unit_containers, update_container
from ..services.errors import DomainError, NotFound, ValidationFailed
from ..services.transaction import run_in_transaction
from . import bp


class ContainerForm(BaseForm):
    """A container: name and its empty weight as typed (``"200"`` grams, ``"0,2 kg"``)."""

    name = StringField(_l("Name"), validators=[Length(max=100)])
    tare = StringField(_l("Empty weight (grams, or kg with a comma)"), validators=[Length(max=30)])
    active = BooleanField(_l("In use"), default=True)


def _messages(exc: DomainError) -> list[str]:
    if isinstance(exc, ValidationFailed):
        return [str(message) for _code, message in exc.errors.values()]
    return [str(exc.message)]


def _page(unit, form: ContainerForm, errors: list[str], status: int = 200, editing: int | None = None):
    return render_template("manager/containers.html", unit=unit, containers=unit_containers(
        unit.id, include_inactive=True), form=form, errors=errors, editing=editing), status


@bp.route("/containers", methods=["GET", "POST"])
@require("member.settings")
def containers():
    """The list of the unit's containers and the form to add one (POST adds)."""
    unit = counter_unit(current_user)
    form = ContainerForm()
    if not form.is_submitted():
        return _page(unit, ContainerForm(formdata=None), [])
    if not form.validate():
        return _page(unit, form, form.error_messages() or [_("The form has expired; please try again.")], 422)
    try:
        row = run_in_transaction(lambda: add_container(unit.id, form.name.data, form.tare.data,
                                                       user_id=current_user.id))
    except DomainError as exc:
        return _page(unit, form, _messages(exc), 422)
    flash(_("Container “%(name)s” added.", name=row.name))
    return redirect(url_for("manager.containers"))


@bp.route("/containers/<int:container_id>", methods=["POST"])
@require("member.settings")
def container_update(container_id: int):
    """Change a container's name, weight or whether it is in use. Another unit's: 404."""
    unit = counter_unit(current_user)
    try:
        found = container_in_unit(unit.id, container_id)
    except NotFound:
        abort(404)  # another unit's container does not exist for this manager
    form = ContainerForm()
    if not form.validate():
        return _page(unit, ContainerForm(formdata=None), form.error_messages()
                     or [_("The form has expired; please try again.")], 422, editing=container_id)
    try:
        run_in_transaction(lambda: update_container(found, form.name.data, form.tare.data, form.active.data,
                                                    user_id=current_user.id))
    except DomainError as exc:
        return _page(unit, ContainerForm(formdata=None), _messages(exc), 422, editing=container_id)
    flash(_("Container “%(name)s” saved.", name=found.name))
    return redirect(url_for("manager.containers"))
