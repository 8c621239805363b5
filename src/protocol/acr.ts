/** Open Banking's acr for strong customer authentication (two independent factors, PSD2 RTS Art. 4). */
export const SCA_ACR = 'urn:openbanking:psd2:sca';
