// The quotation page: an option's checkbox sends its form at once (the
// page comes back with the totals the server computed), and the signature
// pad (signature_pad, MIT) fills the hidden "signature" field on accept.
(function () {
    'use strict';
    document.querySelectorAll('input.autosubmit').forEach(function (box) {
        var form = box.form;
        form.querySelectorAll('.nojs').forEach(function (button) {
            button.hidden = true;
        });
        box.addEventListener('change', function () {
            form.submit();
        });
    });
    var canvas = document.getElementById('signature-pad');
    if (!canvas || typeof SignaturePad === 'undefined') {
        return;
    }
    // drawn at the size shown (the pad's points are the page's pixels),
    // sharp on high-density screens
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext('2d').scale(ratio, ratio);
    var pad = new SignaturePad(canvas);
    document.getElementById('signature-clear').addEventListener(
        'click', function () {
            pad.clear();
        });
    document.getElementById('accept-form').addEventListener(
        'submit', function () {
            document.getElementById('signature').value =
                pad.isEmpty() ? '' : pad.toDataURL('image/png');
        });
}());
