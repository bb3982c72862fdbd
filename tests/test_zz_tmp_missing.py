import polib
from test_ui import DE_PO, MODULE


def test_dump(env):
    Translation = env.get('ir.translation')
    Set = env.get('ir.translation.set', type='wizard')
    session_id, _, _ = Set.create()
    Set(session_id).transition_set_()
    Set.delete(session_id)
    template = Translation.translation_export('en', MODULE)
    if isinstance(template, bytes):
        template = template.decode()
    german = {(e.msgctxt, e.msgid) for e in polib.pofile(str(DE_PO))}
    with open('/tmp/missing.txt', 'w') as f:
        for e in polib.pofile(template):
            if (e.msgctxt, e.msgid) not in german:
                f.write('%s\t%s\n' % (e.msgctxt, e.msgid.replace('\n', '\\n')))
        wanted = {(e.msgctxt, e.msgid) for e in polib.pofile(template)}
        for k in german - wanted:
            f.write('EXTRA\t%s\t%s\n' % k)
