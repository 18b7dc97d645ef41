"""binding request method: form or code

Revision ID: f03423767752
Revises: 993b99111d05
Create Date: 2026-12-08 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f03423767752'
down_revision = '993b99111d05'
branch_labels = None
depends_on = None


def upgrade():
    # Existing requests were all typed in (name and phone): the server default fills them as "form".
    with op.batch_alter_table('binding_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=10), server_default='form', nullable=False))


def downgrade():
    with op.batch_alter_table('binding_requests', schema=None) as batch_op:
        batch_op.drop_column('method')
