"""What the back office shows of the module exists and speaks German:
every string a user sees (fields, helps, selections, views, buttons, menus,
messages, wizard buttons) has its translation in locale/de.po, and every
icon of a button is one the web client or the ERP has."""
import os
import re
from pathlib import Path

import polib
import pytest

from trytond.pyson import PYSONEncoder
from trytond.wizard import StateView

MODULE = 'sale_subscription_contract'
ROOT = Path(__file__).resolve().parent.parent
DE_PO = ROOT / MODULE / 'locale' / 'de.po'
SAO_IMAGES = ROOT / '.cache' / 'sao' / 'images'


def test_every_string_has_a_german_translation(env):
    Translation = env.get('ir.translation')
    Set = env.get('ir.translation.set', type='wizard')
    # Tryton's "Set Translations": the strings of the views and reports
    session_id, _, _ = Set.create()
    Set(session_id).transition_set_()
    Set.delete(session_id)
    template = Translation.translation_export('en', MODULE)
    if isinstance(template, bytes):
        template = template.decode()
    wanted = {(e.msgctxt, e.msgid) for e in polib.pofile(template)}
    german = {(e.msgctxt, e.msgid): e.msgstr
        for e in polib.pofile(str(DE_PO))}
    missing = sorted(wanted - set(german))
    assert missing == [], "not in de.po: %s" % missing
    assert sorted(k for k, v in german.items() if not v) == [], "empty"
    assert sorted(set(german) - wanted) == [], "in de.po, not in the module"


def icons_of(value):
    "The icon names a button's icon (a name or a PYSON choice) may show"
    return set(re.findall(r'tryton-[\w-]+', PYSONEncoder().encode(value)))


def test_every_button_icon_exists(env):
    """An icon neither sao nor the ERP knows shows as an empty image (the
    Pause button had tryton-pause)"""
    if not SAO_IMAGES.is_dir():
        pytest.skip("sao is not installed (scripts/install_sao.sh)")
    Icon = env.get('ir.ui.icon')
    known = {p.stem for p in SAO_IMAGES.glob('tryton-*.svg')}
    known |= {i.name for i in Icon.search([])}
    used = {}
    for name, Model in env.pool.iterobject():
        for button, states in getattr(Model, '_buttons', {}).items():
            for icon in icons_of(states.get('icon', '')):
                used.setdefault(icon, []).append(f'{name}.{button}')
    for name, Wizard in env.pool.iterobject(type='wizard'):
        for state_name, state in Wizard.states.items():
            if isinstance(state, StateView):
                for button in state.buttons:
                    for icon in icons_of(button.icon or ''):
                        used.setdefault(icon, []).append(
                            f'{name}.{state_name}.{button.state}')
    assert 'sale.subscription.pause_wizard' in used['tryton-log']
    assert 'sale.subscription.close.start.close_today' in used[
        'tryton-cancel']
    assert {i: w for i, w in used.items() if i not in known} == {}
