// The quotation page's card through Stripe Elements: Stripe's card field
// (its own frame, from js.stripe.com) takes the card, the browser asks
// Stripe for a payment method (pm_...) and the form posts only its id, so
// the card number never reaches our server. The server attaches it to the
// customer at Stripe and refuses the acceptance with a message if Stripe
// does (models/quotation_stripe.py).
(function () {
    'use strict';
    var mount = document.getElementById('stripe-card');
    if (!mount || typeof Stripe === 'undefined') {
        return;
    }
    var stripe = Stripe(mount.dataset.stripeKey,
        {locale: mount.dataset.locale || 'auto'});
    var card = stripe.elements().create('card', {hidePostalCode: true});
    card.mount(mount);
    var form = document.getElementById('accept-form');
    var field = document.getElementById('stripe-payment-method');
    var errors = document.getElementById('stripe-errors');
    var button = document.getElementById('accept-button');

    function show(message) {
        errors.textContent = message || '';
        errors.hidden = !message;
    }
    card.on('change', function (event) {
        show(event.error ? event.error.message : '');
    });
    form.addEventListener('submit', function (event) {
        if (field.value) {
            return;  // the payment method is made: post the form
        }
        event.preventDefault();
        button.disabled = true;
        var holder = document.getElementById('card-holder').value.trim();
        stripe.createPaymentMethod({
            type: 'card',
            card: card,
            billing_details: holder ? {name: holder} : {}
        }).then(function (result) {
            if (result.error) {
                show(result.error.message);
                button.disabled = false;
                return;
            }
            field.value = result.paymentMethod.id;
            // submit() fires no submit event: the signature pad's field was
            // filled by the event that got here
            form.submit();
        });
    });
}());
