// A card taken through Stripe Elements (the quotation page, a contract's
// card page and its payment link): Stripe's card field (its own frame, from
// js.stripe.com) takes the card, the browser asks Stripe for a payment
// method (pm_...) and the form posts only its id, so the card number never
// reaches our server. The server attaches it to the customer at Stripe and
// refuses with a message if Stripe does (models/stripe_card.py).
// When the bank asks the customer to confirm the card (3-D Secure), the
// server answers with a page (card_authenticate.html) holding the setup
// intent's client secret: Stripe.js shows the bank's window, and once the
// card is confirmed the form is posted again.
(function () {
    'use strict';
    if (typeof Stripe === 'undefined') {
        return;
    }
    var authenticate = document.getElementById('authenticate');
    if (authenticate) {
        confirmCard(authenticate);
        return;
    }
    var mount = document.getElementById('stripe-card');
    if (!mount) {
        return;
    }
    var stripe = Stripe(mount.dataset.stripeKey,
        {locale: mount.dataset.locale || 'auto'});
    var card = stripe.elements().create('card', {hidePostalCode: true});
    card.mount(mount);
    var form = mount.closest('form');
    var field = document.getElementById('stripe-payment-method');
    var errors = document.getElementById('stripe-errors');
    var button = form.querySelector('button[type=submit]');

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

    function confirmCard(section) {
        var stripe = Stripe(section.dataset.stripeKey,
            {locale: section.dataset.locale || 'auto'});
        var form = document.getElementById('authenticate-form');
        var button = document.getElementById('authenticate-button');
        var errors = document.getElementById('stripe-errors');

        function open() {
            button.disabled = true;
            stripe.confirmCardSetup(section.dataset.clientSecret)
                .then(function (result) {
                    if (result.error) {
                        // closed or refused: the customer may try again
                        errors.textContent = result.error.message;
                        errors.hidden = false;
                        button.disabled = false;
                        return;
                    }
                    // the server reads the setup intent back from Stripe
                    form.submit();
                });
        }
        button.addEventListener('click', open);
        open();
    }
}());
