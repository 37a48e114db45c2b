"""fault tickets linked to the known fault of their area; returned steps stored as returned

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linked_to_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_linked_to_id'), ['linked_to_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_linked_to_id_tickets'), 'tickets',
                                    ['linked_to_id'], ['id'])
    # Steps returned before this revision were stored as done: their timeline entry says which.
    bind = op.get_bind()
    events = sa.table('events', sa.column('ticket_id'), sa.column('kind'),
                      sa.column('detail', sa.JSON))
    steps = sa.table('steps', sa.column('ticket_id'), sa.column('step_key'),
                     sa.column('attempt'), sa.column('status'))
    for ticket_id, detail in bind.execute(sa.select(events.c.ticket_id, events.c.detail)
                                          .where(events.c.kind == 'returned')):
        bind.execute(steps.update().where(
            steps.c.ticket_id == ticket_id, steps.c.step_key == detail['step'],
            steps.c.attempt == detail['attempt']).values(status='returned'))


def downgrade() -> None:
    op.execute("UPDATE steps SET status = 'done' WHERE status = 'returned'")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_linked_to_id_tickets'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_linked_to_id'))
        batch_op.drop_column('linked_to_id')
