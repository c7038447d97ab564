"""First-start work: seeded roles and the first admin."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from vmx_app.auth.passwords import generate_password, hash_password_async
from vmx_app.auth.policy import LEGACY_READ_ONLY_POLICIES, READ_ONLY_POLICY, SEEDED_ROLES, parse_policy
from vmx_app.db import session_scope
from vmx_app.errors import Invalid
from vmx_app.models import Role, RoleAssignment, User, UserState
from vmx_app.password_policy import password_problem

log = logging.getLogger("vmx.bootstrap")


async def seed_roles() -> None:
    """Create the seeded roles that are missing. Existing ones are left alone: operators may have
    edited their descriptions or (for non-admin roles) their policies; only a read-only role still holding
    a policy an earlier version seeded is brought up to date."""
    try:
        async with session_scope() as session:
            existing = {r.name: r for r in (await session.exec(select(Role))).all()}
            for seed in SEEDED_ROLES:
                if seed.name not in existing:
                    session.add(Role(name=seed.name, description=seed.description,
                                     policy=seed.policy.to_json(), is_system=True))
            reader = existing.get("read-only")
            if reader is not None and _is_legacy_read_only(reader.policy):
                reader.policy = READ_ONLY_POLICY.to_json()
                session.add(reader)
    except IntegrityError:
        # Another worker seeded them at the same moment.
        log.debug("seeded roles created concurrently")


def _is_legacy_read_only(policy: object) -> bool:
    try:
        return parse_policy(policy) in LEGACY_READ_ONLY_POLICIES  # type: ignore[arg-type]
    except ValidationError:
        return False


async def create_admin(*, email: str, password: str | None) -> tuple[bool, str | None]:
    """Create an admin user. Returns (created, generated_password_or_None)."""
    await seed_roles()
    generated = None
    if password is None:
        generated = password = generate_password()
    problem = password_problem(password)
    if problem:
        raise Invalid(f"admin password refused: {problem}", field="password")
    password_hash = await hash_password_async(password)
    email = email.strip().lower()
    try:
        async with session_scope() as session:
            if (await session.exec(select(User).where(User.email == email))).first():
                return False, None
            admin_role = (await session.exec(select(Role).where(Role.name == "admin"))).one()
            user = User(email=email, name="Administrator", password_hash=password_hash,
                        state=(UserState.CHANGE_PASSWORD if generated else UserState.ACTIVE).value)
            session.add(user)
            await session.flush()
            session.add(RoleAssignment(role_id=admin_role.id, user_id=user.id))
    except IntegrityError:
        return False, None  # created concurrently by another worker
    return True, generated


async def ensure_first_admin() -> str:
    """Create the first admin on an empty user table; answers what happened, for the start-up line."""
    from vmx_app.settings import get_settings

    settings = get_settings()
    email = settings.vmx_admin_email.strip().lower()
    async with session_scope() as session:
        if (await session.exec(select(User.id).limit(1))).first() is not None:
            exists = (await session.exec(select(User.id).where(User.email == email))).first() is not None
            return f"admin {email} already exists" if exists else "users already exist"
    created, generated = await create_admin(email=settings.vmx_admin_email, password=settings.vmx_admin_password)
    if created and generated:
        # Printed once, on purpose: the operator needs it for the first login (forced change).
        print(f"VM-X first admin: {settings.vmx_admin_email} / {generated} (change it at first login)",
              flush=True)
        return f"admin {email} created with the password printed above"
    if created:
        return f"admin {email} created with the password from VMX_ADMIN_PASSWORD"
    return f"admin {email} already exists"


def public_url() -> str:
    """Where this process is reached: VMX_BASE_URL, else its own host and port (a wildcard host is
    reached as localhost)."""
    from vmx_app.settings import get_settings

    settings = get_settings()
    if settings.vmx_base_url:
        return settings.vmx_base_url.rstrip("/")
    host = "localhost" if settings.vmx_host in ("0.0.0.0", "::", "") else settings.vmx_host
    return f"http://{host}:{settings.vmx_port}"


async def bootstrap(*, console: bool = True) -> None:
    from vmx_app.services.model_pricing import seed_pricing
    from vmx_app.vault.runtime import get_vault

    get_vault()  # embedded profile: generates ./data/encryption.key (0600) at first start
    await seed_roles()
    admin = await ensure_first_admin()
    await seed_pricing()
    url = public_url()
    if console:
        print(f"VM-X console: sign in at {url}/login ({admin})", flush=True)
    else:
        print(f"VM-X gateway: serving {url}/v1 (no console in this mode; {admin})", flush=True)
