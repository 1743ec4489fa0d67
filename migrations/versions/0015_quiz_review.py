"""quizzes that teach: what a failed attempt shows, and attempts a manager gave back

Revision ID: 0015_quiz_review
Revises: 0014_request_self
Create Date: 2026-12-07 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_quiz_review'
down_revision = '0014_request_self'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'review',
                sa.Enum('mistakes', 'score', 'full', name='quiz_review', native_enum=False, create_constraint=True, length=20),
                server_default='mistakes',
                nullable=False,
            )
        )
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reset_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_column('reset_at')
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_quizzes_quiz_review'), type_='check')
        batch_op.drop_column('review')
