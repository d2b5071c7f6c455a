<#-- keycloak-clever: Keycloak's error page (theme "base", Keycloak 26.5 to 26.7) with one change.
     Keycloak's "You are already authenticated as different user '<username>' in this session" names
     the person still signed in and offers "Back to Application", a link into their session. On a
     shared classroom device that is another child. That page (recognised in any language from the
     locale's own differentUserAuthenticated text) names nobody, offers no link into the application,
     and offers to sign the earlier person out (Keycloak's logout endpoint asks to confirm). -->
<#import "template.ftl" as layout>
<#assign kccProbe = "kcc-probe-7f3a">
<#assign kccText = msg("differentUserAuthenticated", kccProbe)>
<#assign kccDifferentUser = message?? && message.summary?starts_with(kccText?keep_before(kccProbe))
    && message.summary?ends_with(kccText?contains(kccProbe)?then(kccText?keep_after(kccProbe), ""))>
<@layout.registrationLayout displayMessage=false; section>
    <#if section = "header">
        ${kcSanitize(msg("errorTitle"))?no_esc}
    <#elseif section = "form">
        <div id="kc-error-message">
            <#if kccDifferentUser>
                <p class="instruction" id="kcc-different-user">${msg("kccDifferentUser")}</p>
                <p class="instruction">${msg("kccDifferentUserNext")}</p>
                <p><a id="kcc-sign-out-other" href="${url.loginUrl?keep_before("/login-actions/")}/protocol/openid-connect/logout">${msg("kccSignOutOther")}</a></p>
            <#else>
                <p class="instruction">${kcSanitize(message.summary)?no_esc}</p>
            </#if>
            <#if traceId??>
                <p class="instruction" id="traceId">${msg("traceIdSupportMessage", traceId)}</p>
            </#if>
            <#if skipLink?? || kccDifferentUser>
            <#else>
                <#if client?? && client.baseUrl?has_content>
                    <p><a id="backToApplication" href="${client.baseUrl}">${msg("backToApplication")}</a></p>
                </#if>
            </#if>
        </div>
    </#if>
</@layout.registrationLayout>
