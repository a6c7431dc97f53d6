"""Login, logout, language switch and password change."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter
from ..models import User
from .forms import LoginForm, PasswordForm
from .passwords import check_password, hash_password
from .tokens import end_all_sessions

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return None


def _login_attempt_key() -> str:
    """Count failed logins per address and username, so that one guesser behind a collection
    point's shared address does not lock out every tablet there."""
    from flask_limiter.util import get_remote_address

    return f"{get_remote_address()}|{(request.form.get('username') or '').strip().lower()[:80]}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"], key_func=_login_attempt_key)
def login():
    """Log in with username and password; inactive users are refused with the same message."""
    if current_user.is_authenticated:
        return redirect(url_for("counter.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data.strip()))
        if user is not None and user.active and check_password(user.password_hash, form.password.data):
            login_user(user)
            session.permanent = False
            return redirect(_safe_next(request.args.get("next")) or url_for("counter.home"))
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out everywhere: every session and bearer token of this user ends."""
    end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's password; every other session and token ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not check_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("Wrong password."))
        else:
            user = current_user._get_current_object()
            user.password_hash = hash_password(form.new.data)
            end_all_sessions(user)
            db.session.commit()
            login_user(user)
            flash(_("Password changed. Other devices are logged out."), "info")
            return redirect(url_for("counter.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language (``id`` or ``en``) for this browser session."""
    if code in ("id", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")) or url_for("counter.home"))
