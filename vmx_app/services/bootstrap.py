"""First-start work: seeded roles, the first admin, the pricing catalog."""

from __future__ import annotations

import logging

from sqlmodel import select

from vmx_app.auth.passwords import generate_password, hash_password_async
from vmx_app.db import session_scope
from vmx_app.models import Role, RoleAssignment, User, UserState
from vmx_app.settings import get_settings

log = logging.getLogger("vmx.bootstrap")


async def seed_roles() -> None:
    from vmx_app.auth.policy import SEEDED_ROLES

    async with session_scope() as session:
        existing = set((await session.exec(select(Role.name))).all())  # type: ignore[attr-defined]
        for seed in SEEDED_ROLES:
            if seed.name not in existing:
                session.add(Role(name=seed.name, description=seed.description, policy=seed.policy.to_json(),
                                 is_system=True))


async def create_admin(*, email: str, password: str | None) -> tuple[bool, str | None]:
    """Create an admin user. Returns (created, generated_password_or_None)."""
    generated = None
    if password is None:
        generated = password = generate_password()
    async with session_scope() as session:
        if (await session.exec(select(User).where(User.email == email.lower()))).first():  # type: ignore[attr-defined]
            return False, None
        admin_role = (await session.exec(select(Role).where(Role.name == "admin"))).one()  # type: ignore[attr-defined]
        user = User(email=email.lower(), name="Administrator", password_hash=await hash_password_async(password),
                    state=(UserState.CHANGE_PASSWORD if generated else UserState.ACTIVE).value)
        session.add(user)
        await session.flush()
        session.add(RoleAssignment(role_id=admin_role.id, user_id=user.id))
    return True, generated


async def ensure_first_admin() -> None:
    settings = get_settings()
    async with session_scope(readonly=False) as session:
        if (await session.exec(select(User.id).limit(1))).first() is not None:  # type: ignore[attr-defined]
            return
    created, generated = await create_admin(email=settings.vmx_admin_email, password=settings.vmx_admin_password)
    if created and generated:
        # Printed once, on purpose: the operator needs it for the first login (forced change).
        print(f"VM-X first admin: {settings.vmx_admin_email} / {generated} (change it at first login)",
              flush=True)


async def bootstrap() -> None:
    await seed_roles()
    await ensure_first_admin()
